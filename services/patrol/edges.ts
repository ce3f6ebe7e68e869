import type { DomainEvent } from '../../chains/bittensor/events.ts';
import type { Evidence, GraphEdge } from '../../graph/model.ts';

/**
 * The edges a chain event proves. Miners build their answers with this, and validators
 * recompute it from the chain to check a claimed edge: both sides use one definition.
 * Zero-amount events prove no money moved and yield nothing (as Patrol).
 */
export function edgesOfEvent(ev: DomainEvent): GraphEdge[] {
  const at: Evidence = {
    blockNumber: ev.blockNumber,
    blockHash: ev.blockHash,
    eventIndex: ev.eventIndex,
    extrinsicIndex: ev.extrinsicIndex,
  };
  switch (ev.kind) {
    case 'Transfer':
      if (ev.amount === 0n || ev.from === ev.to) return [];
      return [
        { type: 'TRANSFER', from: ev.from, to: ev.to, evidence: { ...at, amount: ev.amount.toString() } },
      ];
    case 'StakeAdded':
    case 'StakeRemoved': {
      // On spec 218 move_stake also emits a remove+add pair: the StakeMoved edge stands for it.
      if (ev.viaMove || ev.tao === 0n) return [];
      const evidence = {
        ...at,
        amount: ev.tao.toString(),
        alphaAmount: ev.alpha.toString(),
        netuid: ev.netuid,
      };
      return ev.kind === 'StakeAdded'
        ? [{ type: 'STAKE_ADD', from: ev.coldkey, to: ev.hotkey, evidence }]
        : [{ type: 'STAKE_REMOVE', from: ev.hotkey, to: ev.coldkey, evidence }];
    }
    case 'StakeMoved':
      if (ev.amount === 0n) return [];
      return [
        {
          type: 'STAKE_MOVE',
          from: ev.originHotkey,
          to: ev.destinationHotkey,
          evidence: {
            ...at,
            coldkey: ev.coldkey,
            sourceNetuid: ev.originNetuid,
            destinationNetuid: ev.destinationNetuid,
            ...(ev.amount === null ? {} : { amount: ev.amount.toString() }),
          },
        },
      ];
    case 'StakeTransferred':
      if (ev.amount === 0n) return [];
      return [
        {
          type: 'STAKE_TRANSFER',
          from: ev.originColdkey,
          to: ev.destinationColdkey,
          evidence: {
            ...at,
            hotkey: ev.hotkey,
            sourceNetuid: ev.originNetuid,
            destinationNetuid: ev.destinationNetuid,
            amount: ev.amount.toString(),
          },
        },
      ];
    case 'StakeSwapped':
      if (ev.amount === 0n) return [];
      return [
        {
          type: 'STAKE_SWAP',
          from: ev.coldkey,
          to: ev.hotkey,
          evidence: {
            ...at,
            sourceNetuid: ev.originNetuid,
            destinationNetuid: ev.destinationNetuid,
            amount: ev.amount.toString(),
          },
        },
      ];
    case 'SetChildren':
    case 'SetChildrenScheduled':
      return ev.children.map((c, i) => ({
        type: 'PARENT_OF' as const,
        from: ev.hotkey,
        to: c.child,
        evidence: { ...at, subIndex: i, netuid: ev.netuid, proportion: c.proportion.toString() },
      }));
    case 'ColdkeySwapped':
      return [{ type: 'COLDKEY_SWAP', from: ev.oldColdkey, to: ev.newColdkey, evidence: at }];
    default:
      return [];
  }
}

/** Hotkeys an edge touches: their owners become OWNS_HOTKEY edges. */
export function hotkeysOf(edge: GraphEdge): string[] {
  switch (edge.type) {
    case 'STAKE_ADD':
    case 'STAKE_SWAP':
      return [edge.to];
    case 'STAKE_REMOVE':
      return [edge.from];
    case 'STAKE_MOVE':
    case 'PARENT_OF':
      return [edge.from, edge.to];
    case 'STAKE_TRANSFER':
      return edge.evidence.hotkey ? [edge.evidence.hotkey] : [];
    default:
      return [];
  }
}

/** Two edges state the same fact: same type, ends and every evidence field. */
export function sameEdge(a: GraphEdge, b: GraphEdge): boolean {
  if (a.type !== b.type || a.from !== b.from || a.to !== b.to) return false;
  const keys = new Set([...Object.keys(a.evidence), ...Object.keys(b.evidence)]) as Set<keyof Evidence>;
  for (const k of keys) if ((a.evidence[k] ?? null) !== (b.evidence[k] ?? null)) return false;
  return true;
}
