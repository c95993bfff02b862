import { holmRejects, type Summary, tTestP } from "./stats.js";
import type { Row, TaskReport } from "./summary.js";

/** A claim of a method's paper, as a comparison of a row against its reference row. */
interface Claim {
  title: string;
  source: string;
  /** Rows to test (a row missing from the report is skipped). */
  rows: (report: TaskReport) => string[];
  kind: "better" | "on par";
}

const named =
  (...names: string[]) =>
  (): string[] =>
    names;

export const CLAIMS: Claim[] = [
  { title: "DoRA over LoRA", source: "DoRA, arXiv 2402.09353", rows: named("dora"), kind: "better" },
  { title: "MoSLoRA over LoRA", source: "MoSLoRA, arXiv 2406.11909", rows: named("moslora"), kind: "better" },
  {
    title: "CondLoRA on par with LoRA with fewer parameters",
    source: "CondLoRA, arXiv 2403.14946",
    rows: named("condlora"),
    kind: "on par",
  },
  {
    title: "DyLoRA's nested ranks: one run serves each lower rank as well as LoRA trained at that rank",
    source: "DyLoRA, arXiv 2210.07558",
    rows: (r) => r.rows.map((x) => x.variant).filter((v) => v.startsWith("dylora (rank")),
    kind: "on par",
  },
  {
    title: "Better init (W0 − U0V0 + UV) over the default init",
    source: "MoreLoRA idea",
    rows: named("lora:better", "dora:better"),
    kind: "better",
  },
  { title: "Additive LoRA over LoRA", source: "MoreLoRA idea", rows: named("additive"), kind: "better" },
  {
    title: "Hadamard-product LoRA over LoRA at the same parameter count",
    source: "MoreLoRA idea",
    rows: named("hadamard", "hadamard:tanh"),
    kind: "better",
  },
  { title: "Hadamard-Add over LoRA", source: "MoreLoRA idea", rows: named("hadamard-add"), kind: "better" },
  {
    title: "LoHa (FedPara): a higher rank for LoRA's parameter count beats LoRA",
    source: "FedPara, arXiv 2108.06098",
    rows: (r) => r.rows.map((x) => x.variant).filter((v) => /^loha@\d+$/.test(v)),
    kind: "better",
  },
];

/** "On par" means the 95% interval of the difference stays above −2 points (docs/results.md). */
export const PAR_MARGIN = 0.02;

export type Verdict = "held" | "not seen" | "contradicted";

/**
 * The verdict on one row against its reference row. When neither beats the floor (a constant
 * answer: the majority class, the most frequent completion), neither learned the task and the
 * comparison says nothing: "not seen", with that reason.
 */
export function verdict(
  row: Row,
  reference: Row | undefined,
  kind: Claim["kind"],
  floor: { name: string; score: number } | null,
): { verdict: Verdict; why?: string } {
  if (row.failed || reference?.failed)
    return {
      verdict: "not seen",
      why: `${row.failed ? row.variant : reference!.variant} diverged at every rate`,
    };
  const d = row.versus?.difference;
  if (!d || !d.ci95 || !reference)
    return { verdict: "not seen", why: "fewer than two paired seeds: no interval" };
  if (floor !== null && row.score.mean <= floor.score && reference.score.mean <= floor.score)
    return {
      verdict: "not seen",
      why: `neither ${row.variant} nor ${reference.variant} beats the ${floor.name}`,
    };
  const [lo, hi] = d.ci95;
  if (kind === "better") return { verdict: lo > 0 ? "held" : hi < 0 ? "contradicted" : "not seen" };
  return { verdict: lo >= -PAR_MARGIN ? "held" : hi < -PAR_MARGIN ? "contradicted" : "not seen" };
}

const signed = (x: number, digits: number): string => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(digits)}`;

/** One claim's verdict on one row of one task. */
export interface Finding {
  claim: string;
  task: string;
  /** The row the claim is about, and the row it is compared with. */
  row: string;
  reference: string | null;
  verdict: Verdict;
  /** The per-seed difference row − reference, in the task's metric. */
  difference: Summary | null;
  /** The two-sided p of the paired t-test against the verdict's line (0, or −2 points for on par); null without an interval. */
  p: number | null;
  /** A held or contradicted verdict that stands after Holm's correction over every finding with a p (familywise 5 %). */
  survivesHolm: boolean;
  /** LoRA had not plateaued on the task: the verdict ranks runs still learning. */
  stillLearning: boolean;
  /** The finding as one line of Markdown, with its numbers and reasons. */
  line: string;
}

const pText = (p: number): string => (p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`);

/** The findings Holm's correction counts, in words: those with a p (a failed row, or a reference not run yet, has none). */
export function holmFamily(findings: readonly Pick<Finding, "p">[]): string {
  const tested = findings.filter((f) => f.p !== null).length;
  return `the ${tested} findings${tested < findings.length ? " with an interval" : ""}`;
}

/**
 * Every claim's verdict on every row and task it applies to, generated from the numbers. Each
 * interval is at 95 % on its own; Holm's correction over all the findings says which held and
 * contradicted verdicts still stand when the many comparisons are counted.
 */
export function findingsOf(reports: readonly TaskReport[]): Finding[] {
  const out: (Omit<Finding, "survivesHolm" | "line"> & { text: (holm: string) => string })[] = [];
  for (const claim of CLAIMS) {
    for (const report of reports) {
      const percent = report.metric !== "loss";
      const unit = percent ? " points" : "";
      const v = (x: number): string => (percent ? (100 * x).toFixed(1) : x.toFixed(3));
      const floor = report.baselines.find((b) => b.floor);
      const floorScore = floor ? (report.split === "test" ? floor.test : floor.validation) : null;
      const atFloor = floor && floorScore !== null ? { name: floor.name, score: floorScore } : null;
      const p = report.plateau;
      const stillLearning = p !== null && !p.plateaued;
      const moving = stillLearning
        ? `; LoRA had not plateaued on ${report.task} (twice the steps gained ${signed(percent ? 100 * p.gain : p.gain, percent ? 1 : 3)}${unit}), so this ranks runs still learning`
        : "";
      for (const name of claim.rows(report)) {
        const row = report.rows.find((r) => r.variant === name);
        if (!row) continue;
        const ref = report.rows.find((r) => r.variant === row.versus?.reference);
        const { verdict: says, why } = verdict(row, ref, claim.kind, atFloor);
        const d = row.versus?.difference;
        const numbers =
          d && ref
            ? `${row.variant} − ${ref.variant} = ${signed(percent ? 100 * d.mean : d.mean, percent ? 1 : 3)}${unit}` +
              (d.ci95
                ? `, 95% CI [${signed(percent ? 100 * d.ci95[0] : d.ci95[0], percent ? 1 : 3)}, ${signed(percent ? 100 * d.ci95[1] : d.ci95[1], percent ? 1 : 3)}]`
                : "") +
              ` over ${d.n} seed${d.n === 1 ? "" : "s"}; ${row.variant} ${v(row.score.mean)} ± ${v(row.score.std)} ` +
              `(${row.parameters.toLocaleString("en-US")} params), ${ref.variant} ${v(ref.score.mean)} ± ${v(ref.score.std)} ` +
              `(${ref.parameters.toLocaleString("en-US")})`
            : `${row.variant}: ${row.failed ?? "no reference row to compare with"}`;
        out.push({
          claim: claim.title,
          task: report.task,
          row: row.variant,
          reference: ref?.variant ?? null,
          verdict: says,
          difference: d ?? null,
          p:
            d && ref && !row.failed && !ref.failed
              ? tTestP(d, claim.kind === "on par" ? -PAR_MARGIN : 0)
              : null,
          stillLearning,
          text: (holm) =>
            `- **${claim.title}** (${claim.source}; ${report.task}, ${report.split} ${report.metric}): **${says}**. ${numbers}${why ? `; ${why}` : ""}${holm}${moving}.`,
        });
      }
    }
  }
  const tested = out.filter((f) => f.p !== null);
  const rejected = holmRejects(tested.map((f) => f.p!));
  const stands = new Set(tested.filter((_, i) => rejected[i]));
  const family = holmFamily(out);
  return out.map((finding) => {
    const { text, ...f } = finding;
    const survivesHolm = f.verdict !== "not seen" && stands.has(finding);
    const holm =
      f.verdict === "not seen" || f.p === null
        ? ""
        : `; ${pText(f.p)}, ${survivesHolm ? "stands" : "**does not stand**"} after Holm's correction for ${family}`;
    return { ...f, survivesHolm, line: text(holm) };
  });
}

/** One line per claim, row and task, generated from the numbers. */
export const findings = (reports: readonly TaskReport[]): string[] => findingsOf(reports).map((f) => f.line);
