import { type Comparison, holmFamily, type Row, type Summary, type TaskReport } from "../train/index.js";
import { intervalChartSvg, lineChartSvg } from "./plot.js";

const METRIC_NAMES = {
  accuracy: "accuracy",
  "exact-match": "exact match",
  "edit-accuracy": "1 − unit error rate",
  loss: "−loss",
} as const;

/** A score in the report's unit: percent for accuracy and exact match, the value for −loss. */
function unit(report: TaskReport): { v: (x: number) => string; d: (x: number) => string; scale: number } {
  const percent = report.metric !== "loss";
  const scale = percent ? 100 : 1;
  const digits = percent ? 1 : 3;
  return {
    scale,
    v: (x) => (Number.isFinite(x) ? (scale * x).toFixed(digits) : "–"),
    d: (x) => `${x >= 0 ? "+" : "−"}${Math.abs(scale * x).toFixed(digits)}`,
  };
}

const interval = (s: Summary | undefined, f: (x: number) => string): string =>
  s?.ci95 ? `[${f(s.ci95[0])}, ${f(s.ci95[1])}]` : "–";

/** The loud line a report carries when the numbers it reports also chose the learning rates. */
export const VALIDATION_WARNING =
  "VALIDATION NUMBERS: there is no test set (--test FILE), so the scores below are the same validation scores that chose each learning rate; they are optimistic and not a held-out result.";

/** One task's Markdown: the baselines, then a row per variant with its sweep, scores and paired difference. */
export function taskMarkdown(report: TaskReport): string {
  const { v, d } = unit(report);
  const name = `${report.split} ${METRIC_NAMES[report.metric]}`;
  const seeds = Math.max(0, ...report.rows.map((r) => r.score.n));
  const lines = [
    `### ${report.task}: ${name}, ${seeds} seed${seeds === 1 ? "" : "s"} at the rate chosen on validation`,
    "",
    ...(report.split === "validation" ? [`**${VALIDATION_WARNING}**`, ""] : []),
    `| method | trainable params | lr (swept) | validation | ${name} (mean ± std) | 95% CI | paired difference (95% CI) | s / run |`,
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const b of report.baselines)
    lines.push(
      `| ${b.name} | ${b.parameters.toLocaleString("en-US")} | ${b.chosen ?? "–"} | ${v(b.validation)} | ${b.test === null ? "–" : v(b.test)} | – | – | – |`,
    );
  for (const r of report.rows) lines.push(rowMarkdown(r, v, d));
  const p = report.plateau;
  if (p)
    lines.push(
      "",
      `Plateau: LoRA (seed 0, chosen rate) scored ${v(p.atSteps)} on validation after ${p.steps} steps and ${v(p.atDoubled)} after ${2 * p.steps}: ` +
        (p.plateaued
          ? "doubling the steps did not pay (gain under the threshold)."
          : "**doubling the steps still paid: train longer before trusting the ranking.**"),
    );
  if (report.unfinished.length) {
    const left = report.unfinished.reduce((n, u) => n + u.left, 0);
    const times = report.rows.map((r) => r.secondsPerRun).sort((a, b) => a - b);
    const median = times.length ? times[Math.floor(times.length / 2)] : null;
    lines.push(
      "",
      `**Not finished, left out of this table** (a report of a run in progress): ${report.unfinished.map((u) => `${u.variant} (${u.found} cell${u.found === 1 ? "" : "s"} done)`).join(", ")}. ` +
        `At least ${left} run${left === 1 ? "" : "s"} to go` +
        (median === null
          ? "."
          : `: about ${((left * median) / 3600).toFixed(1)} core-hours at the median of the finished rows' seconds per run (${median.toFixed(0)} s).`),
    );
  }
  const edges = report.rows.filter((r) => r.atEdge && !r.variant.startsWith("dylora ("));
  if (edges.length)
    lines.push(
      "",
      `Best rate still at an edge of the extended sweep (a better one may lie beyond): ${edges.map((r) => r.variant).join(", ")}.`,
    );
  return lines.join("\n");
}

function rowMarkdown(r: Row, v: (x: number) => string, d: (x: number) => string): string {
  if (r.failed)
    return `| ${r.variant} | ${r.parameters.toLocaleString("en-US")} | – | – | failed: ${r.failed} | – | – | – |`;
  const sweep = r.sweep.map((s) => (s.lr === r.lr ? `**${s.lr}**` : String(s.lr))).join(", ");
  const versus = r.versus
    ? `${d(r.versus.difference.mean)} ${interval(r.versus.difference, d)} vs ${r.versus.reference}`
    : "–";
  return (
    `| ${r.variant} | ${r.parameters.toLocaleString("en-US")} | ${r.variant.startsWith("dylora (") ? "as dylora" : sweep} | ${v(r.validation.mean)} | ` +
    `${v(r.score.mean)} ± ${v(r.score.std)} | ${interval(r.score, v)} | ${versus} | ${r.secondsPerRun.toFixed(1)} |`
  );
}

/** The report page: how it was made, each task's table, and the findings. */
export function comparisonMarkdown(c: Comparison, command: string, caveat: string): string {
  return [
    "## Command",
    "",
    "```sh",
    command,
    "```",
    "",
    ...c.reports.flatMap((r) => [
      taskMarkdown(r),
      "",
      `![${r.task}](${r.task}.svg)`,
      "",
      `![${r.task} curves](${r.task}-curves.svg)`,
      "",
    ]),
    "## Findings",
    "",
    caveat,
    "",
    ...verdictTable(c),
    ...c.findings.map((f) => f.line),
    "",
  ].join("\n");
}

/**
 * Every verdict at a glance: a line per claim and row, a column per task, each cell the verdict
 * and the paired difference with its interval; † marks a task where LoRA had not plateaued, ‡ a
 * held or contradicted verdict that Holm's correction for the number of findings does not keep.
 */
function verdictTable(c: Comparison): string[] {
  if (!c.findings.length) return [];
  const tasks = c.reports.map((r) => r.task);
  const lines = [
    `| claim | compared | ${tasks.join(" | ")} |`,
    `|---|---|${tasks.map(() => "---").join("|")}|`,
  ];
  const seen = new Set<string>();
  for (const f of c.findings) {
    const key = `${f.claim}\n${f.row}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const cells = c.reports.map((report) => {
      const at = c.findings.find((g) => g.claim === f.claim && g.row === f.row && g.task === report.task);
      // A row whose reference is not in this task's table yet has no verdict to show.
      if (!at?.reference) return "–";
      const { d } = unit(report);
      const numbers = at.difference ? ` ${d(at.difference.mean)} ${interval(at.difference, d)}` : "";
      const chance = at.verdict !== "not seen" && !at.survivesHolm;
      return `${at.verdict}${at.stillLearning ? "†" : ""}${chance ? "‡" : ""}${numbers}`;
    });
    lines.push(
      `| ${f.claim} | ${f.reference ? `${f.row} − ${f.reference}` : f.row} | ${cells.join(" | ")} |`,
    );
  }
  const moving = c.findings.some((f) => f.stillLearning);
  const notStanding = c.findings.some((f) => f.verdict !== "not seen" && !f.survivesHolm);
  return [
    ...lines,
    "",
    ...(moving ? ["† LoRA had not plateaued on this task: the verdict ranks runs still learning.", ""] : []),
    ...(notStanding
      ? [
          `‡ The interval clears the line, but the verdict does not stand after Holm's correction for ${holmFamily(c.findings)} (familywise error 5 %): among this many comparisons one may clear it by chance; more seeds would settle it.`,
          "",
        ]
      : []),
  ];
}

/** Dots with 95% intervals per row, the baselines as dashed lines. */
export function scorePlot(report: TaskReport): string {
  const { scale } = unit(report);
  const rows = report.rows.filter((r) => !r.failed);
  return intervalChartSvg(
    rows.map((r) => ({
      name: `${r.variant} (${r.parameters.toLocaleString("en-US")})`,
      value: scale * r.score.mean,
      low: r.score.ci95 ? scale * r.score.ci95[0] : NaN,
      high: r.score.ci95 ? scale * r.score.ci95[1] : NaN,
    })),
    {
      title: `${report.task}: ${report.split} ${METRIC_NAMES[report.metric]}, mean and 95% interval over seeds (trainable parameters)`,
      xLabel: `${report.split} ${METRIC_NAMES[report.metric]}${scale === 100 ? " (%)" : ""}`,
      bounds: scale === 100 ? [0, 100] : undefined,
      references: report.baselines
        .map((b) => ({
          name: b.name,
          value: scale * (report.split === "test" ? (b.test ?? NaN) : b.validation),
        }))
        .filter((b) => Number.isFinite(b.value)),
    },
  );
}

/** Validation curves (mean over seeds at the chosen rate), to judge whether training had plateaued. */
export function curvePlot(report: TaskReport): string {
  const rows = report.rows.filter((r) => !r.failed && r.curve.length && !r.variant.startsWith("dylora ("));
  const accuracy = rows.every((r) => r.curve.every((p) => p.validationAccuracy !== undefined));
  return lineChartSvg(
    rows.map((r) => ({
      name: r.variant,
      points: r.curve.map(
        (p) => [p.step, accuracy ? 100 * p.validationAccuracy! : p.validationLoss] as [number, number],
      ),
    })),
    {
      title: `${report.task}: validation ${accuracy ? "accuracy" : "loss"} during training`,
      xLabel: "step",
      yLabel: accuracy ? "validation accuracy (%)" : "validation loss",
      markers: true,
    },
  );
}
