import type { EventRecord } from '@polkadot/types/interfaces';
import type { Codec, Registry } from '@polkadot/types/types';
import { encodeAddress } from '@polkadot/util-crypto';

export const SS58_PREFIX = 42;

export interface EventPosition {
  blockNumber: number;
  blockHash: string;
  /** Index in the block's System.Events. */
  eventIndex: number;
  /** Extrinsic that emitted it; null for initialization/finalization (epochs, schedules). */
  extrinsicIndex: number | null;
}

export interface ChildLink {
  /** u64 fraction of the parent's stake (u64::MAX = 100 %). */
  proportion: bigint;
  child: string;
}

export interface StakeChange {
  coldkey: string;
  hotkey: string;
  tao: bigint;
  alpha: bigint;
  netuid: number;
  /** Present on newer runtimes only. */
  fee: bigint | null;
  /** On spec 218 move_stake also emits StakeRemoved+StakeAdded in the same extrinsic: true for those. */
  viaMove: boolean;
}

export type DomainEventBody =
  | { kind: 'Transfer'; from: string; to: string; amount: bigint }
  | (StakeChange & { kind: 'StakeAdded' })
  | (StakeChange & { kind: 'StakeRemoved' })
  | {
      kind: 'StakeMoved';
      coldkey: string;
      originHotkey: string;
      originNetuid: number;
      destinationHotkey: string;
      destinationNetuid: number;
      /** Present on newer runtimes only (TAO value moved). */
      amount: bigint | null;
    }
  | {
      kind: 'StakeTransferred';
      originColdkey: string;
      destinationColdkey: string;
      hotkey: string;
      originNetuid: number;
      destinationNetuid: number;
      amount: bigint;
    }
  | {
      kind: 'StakeSwapped';
      coldkey: string;
      hotkey: string;
      originNetuid: number;
      destinationNetuid: number;
      amount: bigint;
    }
  | { kind: 'SetChildren'; hotkey: string; netuid: number; children: ChildLink[] }
  | {
      kind: 'SetChildrenScheduled';
      hotkey: string;
      netuid: number;
      executionBlock: number;
      children: ChildLink[];
    }
  | { kind: 'ColdkeySwapped'; oldColdkey: string; newColdkey: string }
  | { kind: 'ColdkeySwapScheduled'; oldColdkey: string; newColdkey: string; executionBlock: number }
  | { kind: 'HotkeySwapped'; coldkey: string; oldHotkey: string; newHotkey: string }
  | { kind: 'NeuronRegistered'; netuid: number; uid: number; hotkey: string }
  | { kind: 'WeightsSet'; netuid: number; uid: number };

export type DomainEvent = DomainEventBody & EventPosition;
export type DomainEventKind = DomainEventBody['kind'];

/** Coarse shape of a field, enough to tell the known layouts apart. */
export type FieldKind = 'account' | 'int' | 'children' | 'other';
type Conv = 'account' | 'bigint' | 'number' | 'children';

interface LayoutField {
  /** Our property name. */
  key: string;
  kind: FieldKind;
  conv: Conv;
  /** snake_case names the runtime may give this field when its fields are named. */
  names: string[];
}

interface Layout {
  kind: DomainEventKind;
  fields: LayoutField[];
  /** Defaults for properties absent from this layout. */
  defaults?: Record<string, unknown>;
}

const f = (key: string, kind: FieldKind, conv: Conv, ...names: string[]): LayoutField => ({
  key,
  kind,
  conv,
  names: names.length ? names : [snake(key)],
});
const account = (key: string, ...names: string[]) => f(key, 'account', 'account', ...names);
const amount = (key: string, ...names: string[]) => f(key, 'int', 'bigint', ...names);
const num = (key: string, ...names: string[]) => f(key, 'int', 'number', ...names);
const children = (key = 'children') => f(key, 'children', 'children', 'children');

const stakeOld = [
  account('coldkey'),
  account('hotkey'),
  amount('tao', 'tao', 'tao_amount'),
  amount('alpha', 'alpha', 'alpha_amount'),
  num('netuid'),
];

/**
 * Known layouts per `pallet.Event`, oldest first. Spec 218 (raonet) and current mainnet both
 * declare these events with unnamed fields, so types and arity pick the layout; names are used
 * whenever the runtime provides them.
 */
export const KNOWN_LAYOUTS: Record<string, Layout[]> = {
  'Balances.Transfer': [{ kind: 'Transfer', fields: [account('from'), account('to'), amount('amount')] }],
  'SubtensorModule.StakeAdded': [
    { kind: 'StakeAdded', fields: stakeOld, defaults: { fee: null } },
    { kind: 'StakeAdded', fields: [...stakeOld, amount('fee')] },
  ],
  'SubtensorModule.StakeRemoved': [
    { kind: 'StakeRemoved', fields: stakeOld, defaults: { fee: null } },
    { kind: 'StakeRemoved', fields: [...stakeOld, amount('fee')] },
  ],
  'SubtensorModule.StakeMoved': [
    {
      kind: 'StakeMoved',
      fields: [
        account('coldkey'),
        account('originHotkey'),
        num('originNetuid'),
        account('destinationHotkey'),
        num('destinationNetuid'),
      ],
      defaults: { amount: null },
    },
    {
      kind: 'StakeMoved',
      fields: [
        account('coldkey'),
        account('originHotkey'),
        num('originNetuid'),
        account('destinationHotkey'),
        num('destinationNetuid'),
        amount('amount', 'amount', 'tao_amount'),
      ],
    },
  ],
  'SubtensorModule.StakeTransferred': [
    {
      kind: 'StakeTransferred',
      fields: [
        account('originColdkey'),
        account('destinationColdkey'),
        account('hotkey'),
        num('originNetuid'),
        num('destinationNetuid'),
        amount('amount', 'amount', 'tao_amount'),
      ],
    },
  ],
  'SubtensorModule.StakeSwapped': [
    {
      kind: 'StakeSwapped',
      fields: [
        account('coldkey'),
        account('hotkey'),
        num('originNetuid'),
        num('destinationNetuid'),
        amount('amount', 'amount', 'tao_amount'),
      ],
    },
  ],
  'SubtensorModule.SetChildren': [
    { kind: 'SetChildren', fields: [account('hotkey'), num('netuid'), children()] },
  ],
  'SubtensorModule.SetChildrenScheduled': [
    {
      kind: 'SetChildrenScheduled',
      fields: [
        account('hotkey'),
        num('netuid'),
        num('executionBlock', 'execution_block', 'block'),
        children(),
      ],
    },
  ],
  'SubtensorModule.ColdkeySwapped': [
    { kind: 'ColdkeySwapped', fields: [account('oldColdkey'), account('newColdkey')] },
  ],
  'SubtensorModule.ColdkeySwapScheduled': [
    {
      kind: 'ColdkeySwapScheduled',
      fields: [account('oldColdkey'), account('newColdkey'), num('executionBlock')],
    },
  ],
  'SubtensorModule.HotkeySwapped': [
    { kind: 'HotkeySwapped', fields: [account('coldkey'), account('oldHotkey'), account('newHotkey')] },
  ],
  'SubtensorModule.NeuronRegistered': [
    { kind: 'NeuronRegistered', fields: [num('netuid'), num('uid', 'uid', 'neuron_uid'), account('hotkey')] },
  ],
  'SubtensorModule.WeightsSet': [
    { kind: 'WeightsSet', fields: [num('netuid', 'netuid', 'netuid_index'), num('uid')] },
  ],
};

export interface MetaField {
  /** Empty when the runtime declares a tuple variant. */
  name: string;
  kind: FieldKind;
}

/**
 * Picks the layout of a known event from its metadata fields: by name when the fields are
 * named (extra named fields are ignored), else by exact arity and field kinds. Returns the
 * layout plus, for each layout field, the index of the metadata field holding it; null when
 * nothing matches (a runtime we do not know: the caller reports it rather than guessing).
 */
export function pickLayout(
  event: string,
  metaFields: MetaField[],
): { layout: Layout; positions: number[] } | null {
  const candidates = KNOWN_LAYOUTS[event];
  if (!candidates) return null;
  const named = metaFields.length > 0 && metaFields.every((m) => m.name !== '');
  // Newest first, so a named layout with more fields wins over its older subset.
  for (const layout of [...candidates].reverse()) {
    if (named) {
      const positions = layout.fields.map((lf) =>
        metaFields.findIndex((m) => lf.names.includes(m.name) && m.kind === lf.kind),
      );
      if (positions.every((p) => p >= 0)) return { layout, positions };
    } else if (
      layout.fields.length === metaFields.length &&
      layout.fields.every((lf, i) => metaFields[i]?.kind === lf.kind)
    ) {
      return { layout, positions: layout.fields.map((_, i) => i) };
    }
  }
  return null;
}

/** Resolves a metadata type id to the coarse kind used to match layouts (newtypes are unwrapped). */
export function fieldKind(registry: Registry, typeId: number, depth = 0): FieldKind {
  if (depth > 8) return 'other';
  const ty = registry.lookup.getSiType(typeId);
  const def = ty.def;
  const path = ty.path.map((p) => p.toString()).join('::');
  if (path.endsWith('AccountId32')) return 'account';
  if (def.isPrimitive) return /^U(8|16|32|64|128)$/.test(def.asPrimitive.type) ? 'int' : 'other';
  if (def.isCompact) return fieldKind(registry, def.asCompact.type.toNumber(), depth + 1);
  if (def.isComposite) {
    const fields = def.asComposite.fields;
    if (fields.length === 1 && fields[0]) return fieldKind(registry, fields[0].type.toNumber(), depth + 1);
    return 'other';
  }
  if (def.isSequence) {
    const inner = registry.lookup.getSiType(def.asSequence.type.toNumber()).def;
    if (inner.isTuple) {
      const kinds = inner.asTuple.map((t) => fieldKind(registry, t.toNumber(), depth + 1));
      if (kinds.length === 2 && kinds[0] === 'int' && kinds[1] === 'account') return 'children';
    }
  }
  return 'other';
}

/** Numbers from primitives, compacts and single-field newtypes (TaoCurrency, NetUid, ...). */
export function codecToBigInt(value: Codec): bigint {
  const v = value as Codec & { toBigInt?: () => bigint; unwrap?: () => Codec };
  if (typeof v.toBigInt === 'function') return v.toBigInt();
  if (typeof v.unwrap === 'function') return codecToBigInt(v.unwrap());
  if (value instanceof Map && value.size === 1) return codecToBigInt(value.values().next().value as Codec);
  if (Array.isArray(value) && value.length === 1) return codecToBigInt(value[0] as Codec);
  const text = value.toString();
  return BigInt(text);
}

function convert(conv: Conv, value: Codec): unknown {
  switch (conv) {
    case 'account':
      return encodeAddress(value.toU8a(), SS58_PREFIX);
    case 'bigint':
      return codecToBigInt(value);
    case 'number':
      return Number(codecToBigInt(value));
    case 'children':
      return (value as unknown as Codec[][]).map((pair) => ({
        proportion: codecToBigInt(pair[0] as Codec),
        child: encodeAddress((pair[1] as Codec).toU8a(), SS58_PREFIX),
      }));
  }
}

type Decoder = (data: Codec[]) => DomainEventBody;

export interface EventDecoder {
  /** Decodes one block's `System.Events`; events we do not model are skipped. */
  decode(
    records: Iterable<EventRecord>,
    at: { blockNumber: number; blockHash: string; eventIndexes?: number[] },
  ): DomainEvent[];
}

/**
 * A decoder bound to one runtime's registry; layouts are resolved once per event type.
 * `onUnknownLayout` fires once per event type whose name we know but whose fields we do not.
 */
export function createEventDecoder(
  registry: Registry,
  { onUnknownLayout }: { onUnknownLayout?: (event: string, fields: MetaField[]) => void } = {},
): EventDecoder {
  const decoders = new Map<string, Decoder | null>();

  const decoderFor = (record: EventRecord): Decoder | null => {
    const { event } = record;
    const id = event.index.toHex();
    const cached = decoders.get(id);
    if (cached !== undefined) return cached;
    const name = `${pascal(event.section)}.${event.method}`;
    let decoder: Decoder | null = null;
    if (KNOWN_LAYOUTS[name]) {
      const metaFields = event.meta.fields.map((fl) => ({
        name: fl.name.isSome ? fl.name.unwrap().toString() : '',
        kind: fieldKind(registry, fl.type.toNumber()),
      }));
      const picked = pickLayout(name, metaFields);
      if (picked) {
        const { layout, positions } = picked;
        decoder = (data) => {
          const body: Record<string, unknown> = { kind: layout.kind, ...layout.defaults };
          layout.fields.forEach((lf, i) => {
            body[lf.key] = convert(lf.conv, data[positions[i] as number] as Codec);
          });
          if (layout.kind === 'StakeAdded' || layout.kind === 'StakeRemoved') body.viaMove = false;
          return body as DomainEventBody;
        };
      } else {
        onUnknownLayout?.(name, metaFields);
      }
    }
    decoders.set(id, decoder);
    return decoder;
  };

  return {
    decode(records, { blockNumber, blockHash, eventIndexes }) {
      const out: DomainEvent[] = [];
      let position = -1;
      for (const record of records) {
        position++;
        // A subset of a block's events (one extrinsic's) carries its positions in the block.
        const eventIndex = eventIndexes?.[position] ?? position;
        const decoder = decoderFor(record);
        if (!decoder) continue;
        const extrinsicIndex = record.phase.isApplyExtrinsic
          ? record.phase.asApplyExtrinsic.toNumber()
          : null;
        out.push({
          ...decoder(record.event.data as unknown as Codec[]),
          blockNumber,
          blockHash,
          eventIndex,
          extrinsicIndex,
        });
      }
      markMoves(out);
      return out;
    },
  };
}

/** Flags the StakeRemoved/StakeAdded pair a move emits, so consumers do not count it twice. */
function markMoves(events: DomainEvent[]): void {
  const moveTx = new Set(
    events.filter((e) => e.kind === 'StakeMoved' && e.extrinsicIndex !== null).map((e) => e.extrinsicIndex),
  );
  if (moveTx.size === 0) return;
  for (const e of events) {
    if ((e.kind === 'StakeAdded' || e.kind === 'StakeRemoved') && moveTx.has(e.extrinsicIndex))
      e.viaMove = true;
  }
}

function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function pascal(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
