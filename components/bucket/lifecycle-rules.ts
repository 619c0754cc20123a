// Dumont's lifecycle rule among a bucket's rules. S3's API replaces a bucket's whole lifecycle
// configuration at once, and a bucket Dumont adopts may have rules of its own: Dumont reads the
// rules, adds or replaces its one rule and puts back everything else as it was; on delete it takes
// out its rule only. Pure functions here; bucket-operations.ts reads and writes.
import type { LifecycleRule } from "@aws-sdk/client-s3";

export const dumontRuleId = "dumont-delete-hidden-versions";

/**
 * Really delete hidden (non-current) versions and unfinished uploads under the snapshot prefix
 * after `days`: B2 only hides deleted files otherwise, and keeps billing them.
 */
export function dumontRule(prefix: string, days: number): LifecycleRule {
  return {
    ID: dumontRuleId,
    Status: "Enabled",
    Filter: { Prefix: prefix },
    NoncurrentVersionExpiration: { NoncurrentDays: days },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: days },
  };
}

/** The key prefix a rule applies to when a prefix is all its filter says; undefined for any other filter. */
function plainPrefixOf(rule: LifecycleRule): string | undefined {
  const filter = rule.Filter;
  if (filter && (filter.Tag || filter.And || filter.ObjectSizeGreaterThan !== undefined || filter.ObjectSizeLessThan !== undefined)) return undefined;
  return filter?.Prefix ?? rule.Prefix ?? "";
}

/**
 * Whether a rule is Dumont's: by its ID, or, since B2 keeps lifecycle rules without IDs and its S3
 * API may hand Dumont's back under another, a rule on one of Dumont's `prefixes` that does only
 * what Dumont's does (B2 allows a single rule for any file, so such a rule can only be Dumont's).
 */
export function isDumontRule(rule: LifecycleRule, prefixes: readonly string[]): boolean {
  if (rule.ID === dumontRuleId) return true;
  const prefix = plainPrefixOf(rule);
  const onlyDumontActions = !rule.Expiration && !rule.Transitions?.length && !rule.NoncurrentVersionTransitions?.length
    && (rule.NoncurrentVersionExpiration !== undefined || rule.AbortIncompleteMultipartUpload !== undefined);
  return prefix !== undefined && prefixes.includes(prefix) && onlyDumontActions;
}

/** The bucket's rules with Dumont's for `prefix` in place of any Dumont rule (also one for a former prefix). */
export function withDumontRule(rules: readonly LifecycleRule[], prefix: string, days: number, formerPrefixes: readonly string[] = []): LifecycleRule[] {
  return [...withoutDumontRule(rules, [prefix, ...formerPrefixes]), dumontRule(prefix, days)];
}

/** The bucket's rules without Dumont's: every other rule as it was. */
export function withoutDumontRule(rules: readonly LifecycleRule[], prefixes: readonly string[]): LifecycleRule[] {
  return rules.filter((rule) => !isDumontRule(rule, prefixes));
}

/**
 * Other rules that apply to some of the files under `prefix` (their prefix and Dumont's overlap):
 * B2 refuses two rules for one file, so these say why it refused Dumont's.
 */
export function rulesOverlapping(rules: readonly LifecycleRule[], prefix: string): LifecycleRule[] {
  return withoutDumontRule(rules, [prefix]).filter((rule) => {
    const other = plainPrefixOf(rule) ?? rule.Filter?.And?.Prefix ?? "";
    return other.startsWith(prefix) || prefix.startsWith(other);
  });
}
