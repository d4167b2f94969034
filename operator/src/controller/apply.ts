// The apply/delete loop over the child table: every row whose desired object differs from the
// live one is applied (all at once: the writes are independent, so one round trip per pass), every
// live object the desired state leaves out is deleted, and what changed is summarised for Events.
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { CHILDREN, CHILD_KEYS, Component, type ChildKey, type Children } from '../api/children.js';
import { CONFIG_HASH_ANNOTATION } from '../api/group.js';
import type { Logger } from '../log.js';
import type { ClusterWriter } from './client.js';
import { applyReason, comparable, firstDifference } from './drift.js';
import { EventReason } from './events.js';

export interface SyncContext {
  writer: ClusterWriter;
  namespace: string;
  /** Whether the runtime was reconciled before: a required child missing now was deleted by someone. */
  reconciledBefore: boolean;
  log: Logger;
  /** Why a row is deleted this pass, when the table's general reason says too little. */
  removalNotes?: Partial<Record<ChildKey, string>>;
}

/** Apply and delete what differs; returns every child as it stands afterwards. */
export async function syncChildren(
  ctx: SyncContext,
  desired: Children,
  observed: Children,
  changes: ChangeLog,
): Promise<Children> {
  const now: Record<string, unknown> = {};
  await Promise.all(
    CHILD_KEYS.map(async (key) => {
      const want = desired[key];
      const live = observed[key];
      if (want) {
        // A created-once object (the store Secret) is made before the pass builds anything else.
        now[key] = CHILDREN[key].write === 'apply' ? await ensure(ctx, key, want, live, changes) : live;
      } else if (live && !live.metadata?.deletionTimestamp) {
        await remove(ctx, key, live, changes);
      }
    }),
  );
  return now;
}

async function ensure(
  ctx: SyncContext,
  key: ChildKey,
  desired: KubernetesObject,
  live: KubernetesObject | undefined,
  changes: ChangeLog,
): Promise<KubernetesObject | undefined> {
  const reason = applyReason(desired, live);
  if (reason === 'none') return live;
  const row = CHILDREN[key];
  const applied = await ctx.writer.apply(desired);
  const what = `${row.kind} ${desired.metadata?.name}`;
  const field = reason === 'repair' ? firstDifference(comparable(desired), live) : undefined;
  ctx.log.info({ kind: row.kind, name: desired.metadata?.name, action: reason, field }, 'applied');
  if (reason === 'create') {
    if (row.required && ctx.reconciledBefore) {
      changes.add(EventReason.Restored, `${what} was missing and has been recreated`);
    } else {
      changes.add(row.component === Component.Store ? EventReason.StoreCreated : EventReason.Created, what);
    }
  } else if (reason === 'repair') {
    changes.add(EventReason.Restored, `${what} was changed outside the operator and has been restored`);
  } else {
    const before = podConfigHash(live);
    const after = podConfigHash(desired);
    if (before && after && before !== after) {
      changes.add(
        EventReason.RollingOut,
        `kernel configuration changed (${before} → ${after}): rolling the pods`,
      );
    } else {
      changes.add(EventReason.Updated, what);
    }
  }
  return applied;
}

async function remove(ctx: SyncContext, key: ChildKey, live: KubernetesObject, changes: ChangeLog) {
  const row = CHILDREN[key];
  const name = live.metadata?.name ?? row.name('');
  const gone = await ctx.writer.delete({
    apiVersion: row.apiVersion,
    kind: row.kind,
    name,
    namespace: ctx.namespace,
  });
  if (!gone) return;
  const why = ctx.removalNotes?.[key] ?? row.removedWhen ?? 'it is no longer wanted';
  ctx.log.info({ kind: row.kind, name, why }, 'deleted');
  changes.add(EventReason.Deleted, `${row.kind} ${name} (${why})`);
}

function podConfigHash(object: KubernetesObject | undefined): string | undefined {
  const deployment: V1Deployment | undefined = object;
  if (deployment?.kind !== undefined && deployment.kind !== 'Deployment') return undefined;
  return deployment?.spec?.template?.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
}

/** What one pass changed, grouped into one event message per reason. */
export class ChangeLog {
  private readonly entries = new Map<EventReason, string[]>();

  add(reason: EventReason, text: string): void {
    const list = this.entries.get(reason) ?? [];
    list.push(text);
    this.entries.set(reason, list);
  }

  summaries(): [EventReason, string][] {
    return [...this.entries].map(([reason, texts]) => {
      switch (reason) {
        case EventReason.Created:
          return [reason, `created ${texts.join(', ')}`];
        case EventReason.StoreCreated:
          return [reason, `created the managed store: ${texts.join(', ')}`];
        case EventReason.Updated:
          return [reason, `updated ${texts.join(', ')}`];
        case EventReason.Deleted:
          return [reason, `deleted ${texts.join(', ')}`];
        default:
          return [reason, texts.join('; ')];
      }
    });
  }
}
