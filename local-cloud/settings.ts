// The local cloud's tunable behaviour: boot timings, how long the API takes to notice a dead host,
// how bad keys are answered and whether Vast's rate limits apply. The admin API changes these on a
// running cloud, so every part reads the one settings object the cloud holds.

export interface CloudSettings {
  /** From rent to actual_status "loading". */
  loadingDelayMs: number;
  /** From "loading" to "running" (the host starts then; SSH answers from "running"). */
  runningDelayMs: number;
  /** How long after a host dies the API reports it "offline". */
  statusLagMs: number;
  /** Status code for a bad API key: Vast answers 401, some endpoints 404. */
  authErrorStatus: 401 | 404;
  /** Per-endpoint rate limits as Vast's published thresholds, or none. */
  rateLimits: "off" | "realistic";
}

export const defaultSettings: CloudSettings = {
  loadingDelayMs: 1000,
  runningDelayMs: 2000,
  statusLagMs: 0,
  authErrorStatus: 401,
  rateLimits: "off",
};

/** The settings POST /admin/settings may change. */
export const settingKeys: ReadonlyArray<keyof CloudSettings> = ["loadingDelayMs", "runningDelayMs", "statusLagMs", "authErrorStatus", "rateLimits"];
