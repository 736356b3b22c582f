import { useMemo, useRef, useState } from 'preact/hooks';
import { createApiClient } from './api.js';
import { loadKey, saveKey } from './key-store.js';
import { clearSession } from './state.js';
import { KeyGate } from './components/key-gate.js';
import { Studio } from './components/studio.js';

/** The key gate until a key is accepted, then the studio; a key the server stops accepting brings the gate back. */
export function App() {
  const [key, setKey] = useState<string | null>(() => loadKey());
  const [gateNotice, setGateNotice] = useState<string | null>(null);
  const keyRef = useRef(key);
  keyRef.current = key;

  const api = useMemo(
    () =>
      createApiClient({
        getKey: () => keyRef.current,
        onUnauthorized: () => {
          saveKey(null);
          setKey(null);
          setGateNotice('The server no longer accepts the saved key. Paste a valid one to continue.');
        },
      }),
    [],
  );

  if (!key) {
    return (
      <KeyGate
        api={api}
        notice={gateNotice}
        onKey={(k) => {
          saveKey(k);
          setKey(k);
          setGateNotice(null);
        }}
      />
    );
  }

  return (
    <Studio
      api={api}
      apiKey={key}
      onSignOut={() => {
        saveKey(null);
        // Another key cannot see these tasks; start the next session clean.
        clearSession();
        setGateNotice(null);
        setKey(null);
      }}
    />
  );
}
