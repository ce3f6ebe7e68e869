import { useEffect, useState } from 'preact/hooks';
import { gql } from '../api.ts';
import { ErrorBox, FieldError, Notice } from '../components/common.tsx';
import { type Chain, short, when } from '../format.ts';
import { type FieldErrors, fieldErrors } from '../forms/fieldErrors.ts';
import { href, navigate } from '../router.ts';
import type { ConsolePage } from './page.ts';

/**
 * Cases: saved investigations (wallets, paths, notes), each opened by its link `#/cases?id=…`.
 * `#/cases?new=1&chain=…&wallets=a,b` opens the save form filled from the view it came from
 * (the wallet page links here); saving and deleting need the write key.
 */
interface Case {
  id: string;
  title: string;
  notes: string;
  chain: Chain;
  wallets: string[];
  paths: string[][];
  createdAt: string;
  updatedAt: string;
}
const FIELDS = 'id title notes chain wallets paths createdAt updatedAt';
const SAVE = `mutation($input: CaseInput!) { saveCase(input: $input) { ${FIELDS} } }`;

/** Addresses separated by spaces, commas or arrows; one path per line. */
const words = (text: string) => text.split(/[\s,→>-]+/).filter(Boolean);

function CaseForm({ start }: { start: Partial<Case> & { chain: Chain } }) {
  const [title, setTitle] = useState(start.title ?? '');
  const [notes, setNotes] = useState(start.notes ?? '');
  const [wallets, setWallets] = useState((start.wallets ?? []).join('\n'));
  const [paths, setPaths] = useState((start.paths ?? []).map((p) => p.join(' → ')).join('\n'));
  const [errors, setErrors] = useState<FieldErrors>({});
  const submit = async (e: Event) => {
    e.preventDefault();
    const input = {
      ...(start.id ? { id: start.id } : {}),
      title,
      notes,
      chain: start.chain,
      wallets: words(wallets),
      paths: paths
        .split('\n')
        .map(words)
        .filter((p) => p.length > 0),
    };
    try {
      const { saveCase } = await gql<{ saveCase: Case }>(SAVE, { input });
      navigate('cases', { id: saveCase.id });
    } catch (err) {
      setErrors(fieldErrors(err));
    }
  };
  return (
    <form class="card form" aria-label="Save a case" onSubmit={submit}>
      <h2>{start.id ? 'Edit the case' : `Save a case (${start.chain})`}</h2>
      <label>
        title <input name="title" value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      </label>
      <FieldError errors={errors} field="title" />
      <label>
        notes
        <textarea name="notes" rows={4} value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
      </label>
      <FieldError errors={errors} field="notes" />
      <label>
        wallets (one per line)
        <textarea
          name="wallets"
          rows={3}
          value={wallets}
          spellcheck={false}
          onInput={(e) => setWallets(e.currentTarget.value)}
        />
      </label>
      <FieldError errors={errors} field="wallets" />
      <label>
        paths (one per line, wallets from source to target)
        <textarea
          name="paths"
          rows={3}
          value={paths}
          spellcheck={false}
          onInput={(e) => setPaths(e.currentTarget.value)}
        />
      </label>
      <FieldError errors={errors} field="paths" />
      <FieldError errors={errors} field="form" />
      <FieldError errors={errors} field="id" />
      <button type="submit">Save case</button>
    </form>
  );
}

const walletLink = (chain: Chain, a: string) => (
  <a class="mono" href={href('wallet', { chain, address: a })} title={a}>
    {short(a, 8)}
  </a>
);

function OpenCase({ id }: { id: string }) {
  const [c, setCase] = useState<Case | null>();
  const [error, setError] = useState<Error>();
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    gql<{ case: Case | null }>(`query($id: ID!) { case(id: $id) { ${FIELDS} } }`, { id }).then(
      (d) => setCase(d.case),
      setError,
    );
  }, [id]);
  if (error) return <ErrorBox error={error} />;
  if (c === undefined) return <Notice>Opening the case…</Notice>;
  if (c === null) return <Notice>There is no case {id} (deleted, or a wrong link).</Notice>;
  if (editing) return <CaseForm start={c} />;
  const remove = () =>
    gql('mutation($id: ID!) { deleteCase(id: $id) }', { id }).then(() => navigate('cases'), setError);
  return (
    <article class="card case" data-case={c.id}>
      <h2>{c.title}</h2>
      <p class="hint">
        {c.chain} · saved {when(c.updatedAt)} · link: <a href={href('cases', { id: c.id })}>{c.id}</a>
      </p>
      <pre class="notes">{c.notes || '(no notes)'}</pre>
      <h3>Wallets</h3>
      <ul class="plain">
        {c.wallets.map((w) => (
          <li key={w}>{walletLink(c.chain, w)}</li>
        ))}
      </ul>
      <h3>Paths</h3>
      <ul class="plain">
        {c.paths.map((p, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: paths may repeat; their order is the key
          <li key={i}>
            {p.map((w, j) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a wallet may repeat in a path; its place is the key
              <span key={`${w}${j}`}>
                {j > 0 && ' → '}
                {walletLink(c.chain, w)}
              </span>
            ))}
          </li>
        ))}
      </ul>
      <div class="toolbar">
        <button type="button" onClick={() => setEditing(true)}>
          Edit
        </button>
        <button type="button" onClick={remove}>
          Delete
        </button>
      </div>
    </article>
  );
}

function CaseList() {
  const [list, setList] = useState<Case[]>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    gql<{ cases: Case[] }>(`{ cases(first: 100) { ${FIELDS} } }`).then((d) => setList(d.cases), setError);
  }, []);
  return (
    <>
      <ErrorBox error={error} />
      {list?.length === 0 && <Notice>No case saved yet: open a wallet and choose "Save as case".</Notice>}
      <ul class="plain cases">
        {list?.map((c) => (
          <li key={c.id}>
            <a href={href('cases', { id: c.id })}>{c.title}</a> · {c.chain} · {c.wallets.length} wallets ·{' '}
            {c.paths.length} paths · {when(c.updatedAt)}
          </li>
        ))}
      </ul>
    </>
  );
}

function CasesView({ params }: { params: URLSearchParams }) {
  const id = params.get('id');
  const chain = (params.get('chain') === 'ETHEREUM' ? 'ETHEREUM' : 'BITTENSOR') as Chain;
  return (
    <>
      <h1>Cases</h1>
      {id && <OpenCase key={id} id={id} />}
      {!id && params.get('new') && (
        <CaseForm
          start={{ chain, wallets: words(params.get('wallets') ?? ''), title: params.get('title') ?? '' }}
        />
      )}
      {!id && <CaseList />}
    </>
  );
}

export const casesPage: ConsolePage = {
  id: 'cases',
  title: 'Cases',
  group: 'Investigate',
  component: CasesView,
};
