// Organization usage and costs in the protocol (docs/protocol.md, `sidekick/connectAdmin`,
// `orgCosts`, `orgUsage`, `orgSync`): the types only, re-exported by protocol.ts. No logic.

export interface ConnectAdminParams {
  provider: string;
  /** Trimmed by the server; never logged or kept by the extension. */
  adminKey: string;
  organization?: string;
}

export interface ConnectAdminResult {
  provider: string;
  adminConnected: true;
  adminKeyHint: string | null;
}

export interface DisconnectAdminParams {
  provider: string;
}

export interface DisconnectAdminResult {
  provider: string;
  adminConnected: boolean;
}

export type CostsGroupBy = 'project' | 'lineItem';

export interface OrgCostsParams {
  provider: string;
  /** UTC days, inclusive. */
  from: string;
  to: string;
  groupBy?: CostsGroupBy;
  projectIds?: string[];
  lineItems?: string[];
  refresh?: boolean;
}

/** `key` is `""` for costs outside any project. */
export interface CostGroup {
  key: string;
  amount: number;
}

export interface CostDay {
  date: string;
  total: number;
  groups: CostGroup[];
}

export interface ForecastDay {
  date: string;
  /** Cumulative spend expected by the end of this day, with its band. */
  expected: number;
  low: number;
  high: number;
}

export interface Forecast {
  monthEnd: number;
  low: number;
  high: number;
  method: string;
  spentSoFar: number;
  days: ForecastDay[];
}

export interface OrgCostsResult {
  currency: 'usd';
  total: number;
  days: CostDay[];
  groups: CostGroup[];
  forecast: Forecast | null;
  spendLimit: number | null;
  budgetUsd: number | null;
  fetchedAt: number;
  requests: number;
  projects: string[];
  lineItems: string[];
}

export type UsageGroupBy = 'model' | 'project';

export interface OrgUsageParams {
  provider: string;
  from: string;
  to: string;
  groupBy?: UsageGroupBy;
  models?: string[];
  projectIds?: string[];
  refresh?: boolean;
}

export interface TokenCounts {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  requests: number;
}

export interface UsageGroup extends TokenCounts {
  key: string;
}

export interface UsageDay extends TokenCounts {
  date: string;
  groups: UsageGroup[];
}

export interface OrgUsageResult {
  days: UsageDay[];
  totals: TokenCounts;
  groups: UsageGroup[];
  models: string[];
  projects: string[];
  fetchedAt: number;
  requests: number;
}

export interface OrgSyncParams {
  provider: string;
  dataset: 'costs' | 'usage';
  pagesDone: number;
  pagesTotal: number;
  done: boolean;
}
