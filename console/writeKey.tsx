import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * The API key, asked once per browser tab: kept in sessionStorage (gone when the tab closes), sent
 * as `x-api-key`, never shown on a page (the prompt is a password field, the header says only
 * whether a key is set).
 */
const STORAGE = 'vigil.apiKey';

export const hasKey = (): boolean => !!sessionStorage.getItem(STORAGE);
export const keyHeaders = (): Record<string, string> => {
  const key = sessionStorage.getItem(STORAGE);
  return key ? { 'x-api-key': key } : {};
};
export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE);
  notify();
}

type Listener = () => void;
const listeners = new Set<Listener>();
const notify = () => listeners.forEach((l) => l());

interface Ask {
  reason: string;
  resolve: (given: boolean) => void;
}
let pending: Ask | undefined;

/** Opens the key prompt; true once a key was entered, false if dismissed. */
export function askForKey(reason: string): Promise<boolean> {
  pending?.resolve(false);
  return new Promise((resolve) => {
    pending = { reason, resolve };
    notify();
  });
}

function settle(key: string | undefined) {
  if (key) sessionStorage.setItem(STORAGE, key);
  const p = pending;
  pending = undefined;
  notify();
  p?.resolve(!!key);
}

function useKeyState() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((t) => t + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return { pending, hasKey: hasKey() };
}

/** The header's key status: "key set · forget" or "enter a key". */
export function KeyStatus() {
  const { hasKey: set } = useKeyState();
  return set ? (
    <span class="key-status">
      API key set for this tab ·{' '}
      <button type="button" class="link" onClick={forgetKey}>
        forget
      </button>
    </span>
  ) : (
    <button
      type="button"
      class="link key-status"
      onClick={() => askForKey('Enter an API key (a write key for changes).')}
    >
      enter an API key
    </button>
  );
}

/** The prompt itself, mounted once by the layout; shown while someone waits for a key. */
export function KeyPrompt() {
  const { pending: ask } = useKeyState();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (ask) input.current?.focus();
  }, [ask]);
  if (!ask) return null;
  return (
    <div class="modal-backdrop">
      <form
        class="modal"
        aria-label="API key"
        onSubmit={(e) => {
          e.preventDefault();
          settle(input.current?.value.trim() || undefined);
        }}
      >
        <h2>API key</h2>
        <p>{ask.reason}</p>
        <p class="hint">Kept for this browser tab only (sessionStorage), sent as x-api-key.</p>
        <input ref={input} type="password" name="api-key" autocomplete="off" placeholder="key" />
        <div class="actions">
          <button type="submit">Use key</button>
          <button type="button" onClick={() => settle(undefined)}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
