// The one account the local cloud has: who it is, its API key, its credit and its SSH keys. Key ids
// are one sequence shared with the keys attached to single instances, as on Vast.
import { randomBytes } from "node:crypto";
import { parsePublicKey } from "./requests.ts";
import { VastError } from "./vast/error.ts";

export interface AccountKey {
  readonly id: number;
  key: string;
  /** Epoch seconds. */
  readonly createdAt: number;
}

export class Account {
  readonly id = 281_337;
  readonly email = "local@dumont.invalid";
  readonly username = "dumont-local";
  readonly apiKey = randomBytes(24).toString("hex");
  readonly creditUsd: number;
  private accountKeys: AccountKey[] = [];
  private lastKeyId = 0;

  constructor(creditUsd = 100) {
    this.creditUsd = creditUsd;
  }

  get keys(): readonly AccountKey[] {
    return this.accountKeys;
  }

  /** The key lines a new host is created with. */
  publicKeys(): string[] {
    return this.accountKeys.map((k) => k.key);
  }

  /** The next id of an account or instance key. An id is used up even if its key is then refused. */
  nextKeyId(): number {
    return ++this.lastKeyId;
  }

  addKey(key: string): AccountKey {
    const entry = { id: this.nextKeyId(), key: parsePublicKey(key), createdAt: Date.now() / 1000 };
    this.accountKeys.push(entry);
    return entry;
  }

  updateKey(id: number, key: string): AccountKey {
    const entry = this.accountKeys.find((k) => k.id === id);
    if (!entry) throw new VastError(400, "no_ssh_key", "No ssh key provided");
    entry.key = parsePublicKey(key);
    return entry;
  }

  deleteKey(id: number): void {
    const before = this.accountKeys.length;
    this.accountKeys = this.accountKeys.filter((k) => k.id !== id);
    if (this.accountKeys.length === before) throw new VastError(400, "no_ssh_key", "No ssh key provided");
  }
}
