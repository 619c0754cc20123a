// A client for the local cloud's admin API, for the CLI, the tests and the local standby component.
import { EnvironmentError, UserError } from "../lib/errors.ts";
import type { HostInfo } from "./host.ts";
import type { FaultSpec } from "./faults.ts";
import type { Endpoints } from "./endpoints.ts";

export class LocalCloudAdmin {
  private readonly endpoints: Endpoints;
  constructor(endpoints: Endpoints) {
    this.endpoints = endpoints;
  }

  private async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.endpoints.admin.url}${route}`, {
      method,
      headers: { authorization: `Bearer ${this.endpoints.admin.token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const payload = (await response.json()) as T & { error?: string };
    if (!response.ok) {
      // The admin API answers 4xx to a request it refuses (a fault on a host that does not exist).
      const message = `local cloud admin ${method} ${route}: ${payload.error ?? response.status}`;
      throw response.status < 500 ? new UserError(message, "see `npx dumont local-cloud status`") : new EnvironmentError(message, "see the local cloud's daemon.log");
    }
    return payload;
  }

  status(): Promise<Record<string, unknown>> {
    return this.call("GET", "/status");
  }

  fault(spec: FaultSpec): Promise<{ id?: number; applied?: string }> {
    return this.call("POST", "/faults", spec);
  }

  clearFaults(): Promise<void> {
    return this.call("DELETE", "/faults");
  }

  settings(values: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.call("POST", "/settings", values);
  }

  createStandby(name: string, authorizedKeys: readonly string[]): Promise<HostInfo> {
    return this.call("POST", "/standbys", { name, authorized_keys: authorizedKeys });
  }

  async standby(name: string): Promise<HostInfo | undefined> {
    return this.call<HostInfo>("GET", `/standbys/${name}`).catch(() => undefined);
  }

  startStandby(name: string): Promise<HostInfo> {
    return this.call("POST", `/standbys/${name}/start`);
  }

  async destroyStandby(name: string): Promise<boolean> {
    return (await this.call<{ destroyed: boolean }>("DELETE", `/standbys/${name}`)).destroyed;
  }

  shutdown(): Promise<void> {
    return this.call("POST", "/shutdown");
  }
}
