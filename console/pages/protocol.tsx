import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api.ts';
import { ErrorBox, FieldError, Notice } from '../components/common.tsx';
import { when } from '../format.ts';
import { type FieldErrors, fieldErrors } from '../forms/fieldErrors.ts';
import type { ConsolePage } from './page.ts';

/**
 * Protocol teams: the registered invariants and their defense actions, added with a form the API
 * validates (its registry schema; errors shown under each field) and removed. Both need the write
 * key, asked once per tab by api.ts.
 */
interface Invariant {
  id: string;
  chainId: number;
  kind: string;
  contract: string;
  description: string;
  severity: string;
  definition: string;
  createdAt: string;
  actions: { id: string; kind: string; url: string | null; chatId: string | null; contract: string | null }[];
}

const LIST = `{ invariants { id chainId kind contract description severity definition createdAt
  actions { id kind url chatId contract } } }`;
const ADD = 'mutation($input: InvariantInput!) { addInvariant(input: $input) { id } }';
const REMOVE = 'mutation($id: ID!) { removeInvariant(id: $id) }';
const ACTION_FIELD = { WEBHOOK: 'url', TELEGRAM: 'chatId', PAUSE: 'contract' } as const;
const EXAMPLE = '{"id": "vault-owner", "kind": "ownerUnchanged", "contract": "0x…"}';

function AddForm({ added }: { added: () => void }) {
  const [chainId, setChainId] = useState('31337');
  const [severity, setSeverity] = useState('HIGH');
  const [definition, setDefinition] = useState('');
  const [kind, setKind] = useState<'' | keyof typeof ACTION_FIELD>('');
  const [target, setTarget] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const id = Number(chainId);
    if (!/^\d+$/.test(chainId.trim()) || !Number.isSafeInteger(id))
      return setErrors({ chainId: [`chainId must be a whole number, got "${chainId}"`] });
    const actions = kind ? [{ kind, [ACTION_FIELD[kind]]: target.trim() || null }] : [];
    setBusy(true);
    try {
      await gql(ADD, { input: { chainId: id, severity, definition, actions } });
      setErrors({});
      setDefinition('');
      added();
    } catch (err) {
      setErrors(fieldErrors(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card form" aria-label="Register an invariant" onSubmit={submit}>
      <h2>Register an invariant</h2>
      <label>
        chain id <input name="chainId" value={chainId} onInput={(e) => setChainId(e.currentTarget.value)} />
      </label>
      <FieldError errors={errors} field="chainId" />
      <label>
        severity{' '}
        <select name="severity" value={severity} onChange={(e) => setSeverity(e.currentTarget.value)}>
          {['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <FieldError errors={errors} field="severity" />
      <label>
        definition (JSON, docs/defense.md)
        <textarea
          name="definition"
          rows={4}
          value={definition}
          placeholder={EXAMPLE}
          spellcheck={false}
          onInput={(e) => setDefinition(e.currentTarget.value)}
        />
      </label>
      <FieldError errors={errors} field="definition" />
      <label>
        defense action{' '}
        <select
          name="actionKind"
          value={kind}
          onChange={(e) => setKind(e.currentTarget.value as typeof kind)}
        >
          <option value="">none</option>
          <option value="WEBHOOK">webhook (url)</option>
          <option value="TELEGRAM">telegram (chat id)</option>
          <option value="PAUSE">pause (contract, default: the invariant's)</option>
        </select>{' '}
        {kind && (
          <input
            name="actionTarget"
            value={target}
            placeholder={ACTION_FIELD[kind]}
            onInput={(e) => setTarget(e.currentTarget.value)}
          />
        )}
      </label>
      <FieldError errors={errors} field="actions" />
      <FieldError errors={errors} field="form" />
      <button type="submit" disabled={busy}>
        Register
      </button>
    </form>
  );
}

function ProtocolView() {
  const [list, setList] = useState<Invariant[]>();
  const [error, setError] = useState<Error>();
  const [version, setVersion] = useState(0);
  const reload = () => setVersion((v) => v + 1);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` changes to load the list again
  useEffect(() => {
    gql<{ invariants: Invariant[] }>(LIST).then((d) => setList(d.invariants), setError);
  }, [version]);
  const remove = (id: string) => gql(REMOVE, { id }).then(reload, setError);
  return (
    <>
      <h1>Protocol team</h1>
      <AddForm added={reload} />
      <h2>Registered invariants</h2>
      <ErrorBox error={error} />
      {list && list.length === 0 && <Notice>No invariant is registered.</Notice>}
      {list && list.length > 0 && (
        <table class="grid invariants">
          <thead>
            <tr>
              <th>id</th>
              <th>chain</th>
              <th>kind</th>
              <th>contract</th>
              <th>severity</th>
              <th>actions</th>
              <th>registered</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((i) => (
              <tr key={i.id} data-invariant={i.id} title={i.description}>
                <td class="mono">{i.id}</td>
                <td>{i.chainId}</td>
                <td>{i.kind}</td>
                <td class="mono">{i.contract}</td>
                <td>{i.severity}</td>
                <td>
                  {i.actions
                    .map((a) => `${a.kind.toLowerCase()} ${a.url ?? a.chatId ?? a.contract ?? ''}`)
                    .join(', ') || '—'}
                </td>
                <td>{when(i.createdAt)}</td>
                <td>
                  <button type="button" onClick={() => remove(i.id)} aria-label={`remove ${i.id}`}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export const protocolPage: ConsolePage = {
  id: 'protocol',
  title: 'Invariants',
  group: 'Defense',
  component: ProtocolView,
};
