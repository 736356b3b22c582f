import { useState } from 'preact/hooks';
import { ApiError, type ApiClient } from '../api.js';

interface Props {
  api: ApiClient;
  /** why the gate is shown again (a key that stopped working) */
  notice: string | null;
  onKey: (key: string) => void;
}

/** The first screen: paste an API key once; it is checked against the server before it is kept. */
export function KeyGate({ api, notice, onKey }: Props) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    const key = value.trim();
    if (!key) {
      setError('Paste an API key first.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.checkKey(key);
      onKey(key);
    } catch (err) {
      const e2 = err as ApiError;
      setError(
        e2.status === 401 || e2.status === 403
          ? `This key was not accepted (${e2.code}). Check that you copied all of it.`
          : e2.message,
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="gate">
      <form class="gate-card" onSubmit={submit} aria-describedby="gate-help">
        <div class="brand brand-large" aria-hidden="true">
          <span class="brand-mark" />
          reshoot <span class="brand-sub">studio</span>
        </div>
        <h1>Connect to your reshoot server</h1>
        <p id="gate-help" class="muted">
          Paste an API key. On a new server, use the key printed when it first started (it begins with <code>sk-</code>).
          The key stays in this browser only.
        </p>
        {notice && <p class="notice" role="status">{notice}</p>}
        <label class="field">
          <span class="label">API key</span>
          <input
            type="password"
            name="apiKey"
            autocomplete="off"
            spellcheck={false}
            placeholder="sk-…"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={error ? 'gate-error' : undefined}
            autofocus
          />
        </label>
        {error && (
          <p id="gate-error" class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Checking…' : 'Continue'}
        </button>
      </form>
    </main>
  );
}
