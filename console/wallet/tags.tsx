import { useState } from 'preact/hooks';
import { gql } from '../api.ts';
import { ErrorBox } from '../components/common.tsx';
import type { Chain } from '../format.ts';

interface Tag {
  label: string;
  source: string;
  createdAt: string;
}

const TAGS =
  'query Tags($chain: Chain!, $address: String!) { wallet(chain: $chain, address: $address) { tags { label source createdAt } } }';
const ADD = `mutation AddTag($chain: Chain!, $address: String!, $label: String!, $source: String!) {
  addTag(chain: $chain, address: $address, label: $label, source: $source) { label }
}`;
const REMOVE = `mutation RemoveTag($chain: Chain!, $address: String!, $label: String!, $source: String!) {
  removeTag(chain: $chain, address: $address, label: $label, source: $source)
}`;

/** The wallet's investigator labels; adding and removing need a write key (asked once per tab). */
export function Tags({ chain, address, initial }: { chain: Chain; address: string; initial: Tag[] }) {
  const [tags, setTags] = useState(initial);
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const change = async (mutation: string, label: string, source: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await gql(mutation, { chain, address, label, source });
      const d = await gql<{ wallet: { tags: Tag[] } | null }>(TAGS, { chain, address });
      setTags(d.wallet?.tags ?? []);
      return true;
    } catch (e) {
      setError(e as Error);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-label="Tags">
      <div class="tags">
        <strong>Tags</strong>
        {tags.length === 0 && <span class="hint">none yet</span>}
        {tags.map((t) => (
          <span class="tag" key={`${t.label}|${t.source}`} title={`by ${t.source}, ${t.createdAt}`}>
            {t.label} <span class="hint">({t.source})</span>
            <button
              type="button"
              aria-label={`remove tag ${t.label}`}
              disabled={busy}
              onClick={() => void change(REMOVE, t.label, t.source)}
            >
              ×
            </button>
          </span>
        ))}
        <form
          class="tags"
          aria-label="Add a tag"
          onSubmit={async (e) => {
            e.preventDefault();
            const form = e.currentTarget;
            const f = new FormData(form);
            const label = String(f.get('label') ?? '').trim();
            const source = String(f.get('source') ?? '').trim() || 'console';
            if (!label) return setError(new Error('label: enter a label to add'));
            if (await change(ADD, label, source)) form.reset();
          }}
        >
          <input name="label" placeholder="label, e.g. exchange" aria-label="tag label" size={18} />
          <input name="source" placeholder="source (you)" aria-label="tag source" size={12} />
          <button type="submit" disabled={busy}>
            Add tag
          </button>
        </form>
      </div>
      <ErrorBox error={error} />
    </section>
  );
}
