import { Injectable } from '@nestjs/common';
import { FunnelEngineRepository } from './funnel-engine.repository.js';
import { compileRules, type RuleSet } from './funnel-rules.js';

// Workspaces whose rules stay compiled in memory; the least recently used one goes first.
const MAX_WORKSPACES = 1000;

/**
 * Compiled rules per workspace. Writes in this process invalidate their workspace; other processes'
 * writes are caught by a fingerprint of the workspace's funnels (count, versions, last update) checked
 * on every read, so a stale cache is refreshed before the next batch.
 */
@Injectable()
export class FunnelRulesCache {
  private readonly entries = new Map<string, { fingerprint: string; rules: RuleSet }>();

  constructor(private readonly engine: FunnelEngineRepository) {}

  async get(workspaceId: string): Promise<RuleSet> {
    // Read before loading: a change in between leaves an older fingerprint, so the next read reloads.
    const fingerprint = await this.engine.rulesFingerprint(workspaceId);
    const hit = this.entries.get(workspaceId);
    this.entries.delete(workspaceId);
    if (hit && hit.fingerprint === fingerprint) {
      this.entries.set(workspaceId, hit);
      return hit.rules;
    }
    const rules = compileRules(await this.engine.activeFunnels(workspaceId));
    this.entries.set(workspaceId, { fingerprint, rules });
    if (this.entries.size > MAX_WORKSPACES) this.entries.delete(this.entries.keys().next().value as string);
    return rules;
  }

  invalidate(workspaceId: string): void {
    this.entries.delete(workspaceId);
  }
}
