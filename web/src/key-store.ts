const STORAGE_KEY = 'reshoot.apiKey';

/** The API key, kept in this browser's local storage so it is pasted once. */
export function loadKey(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveKey(key: string | null): void {
  try {
    if (key) localStorage.setItem(STORAGE_KEY, key);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Private modes may refuse storage; the key then lasts for this page only.
  }
}

/** `sk-…abcd`: enough to recognise a key without showing it. */
export function maskKey(key: string): string {
  return key.length <= 8 ? '••••' : `${key.slice(0, 3)}…${key.slice(-4)}`;
}
