export { type BaselineScore, classificationBaselines, fitLogistic, logisticLoss } from "./baselines.js";
export { type Cell, type CellKey, CellStore, type CurvePoint } from "./cells.js";
export { type Comparison, type ComparisonOptions, runComparison } from "./comparison.js";
export {
  CLAIMS,
  type Finding,
  findings,
  findingsOf,
  holmFamily,
  PAR_MARGIN,
  type Verdict,
  verdict,
} from "./findings.js";
export { appliesTo, type ProtocolOptions, runProtocol, type VariantRuns } from "./protocol.js";
export { cellJob, isHeadTensor, reseedHead, runCell } from "./run-cell.js";
export { holmRejects, logSpaced, pairedDifference, type Summary, summarize, tTestP } from "./stats.js";
export { type Plateau, plateauOf, type Row, type TaskReport, taskReport } from "./summary.js";
export type { CompareMetric, CompareTask } from "./task.js";
export {
  defaultVariants,
  dyloraRankRow,
  METHOD_VARIANTS,
  parseVariant,
  referenceVariant,
  type Variant,
} from "./variants.js";
