import { useRef, useState } from 'preact/hooks';
import type { ReferenceRole } from '../api.js';
import type { Reference } from '../state.js';

const ROLES: readonly (ReferenceRole | 'auto')[] = ['auto', 'product', 'scene', 'style'];
const ROLE_TEXT: Record<ReferenceRole | 'auto', string> = {
  auto: 'Auto — the prompt decides',
  product: 'Product — cut out and placed',
  scene: 'Scene — a photo to place into',
  style: 'Style — palette and light to borrow',
};

/** A file whose bytes are already a reference, held until the person says whether to add it again. */
export interface PendingDuplicate {
  file: File;
  content: string;
  /** the name of the reference it repeats */
  of: string;
}

interface Props {
  refs: readonly Reference[];
  max: number;
  withRoles: boolean;
  duplicate: PendingDuplicate | null;
  /** the low-resolution warning for the chosen output, if any */
  lowRes: string | null;
  onFiles: (files: File[]) => void;
  onUrl: (url: string) => void;
  onRemove: (id: string) => void;
  onRole: (id: string, role: Reference['role']) => void;
  onDuplicate: (keep: boolean) => void;
}

/** Product images: drop, pick, paste (handled page-wide) or link; with a role each on the Pro model. */
export function References({ refs, max, withRoles, duplicate, lowRes, onFiles, onUrl, onRemove, onRole, onDuplicate }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [url, setUrl] = useState('');
  const [urlError, setUrlError] = useState<string | null>(null);
  // Links the browser cannot show (another site's hotlink rules, or not an image) still go to the server.
  const [broken, setBroken] = useState<ReadonlySet<string>>(new Set());
  const full = refs.length >= max;

  function drop(e: DragEvent) {
    e.preventDefault();
    setOver(false);
    const files = [...(e.dataTransfer?.files ?? [])].filter((f) => f.type.startsWith('image/'));
    if (files.length) onFiles(files);
  }

  function addUrl(e: Event) {
    e.preventDefault();
    const v = url.trim();
    if (!/^https?:\/\/\S+$/i.test(v)) {
      setUrlError('Enter an http(s) link to an image.');
      return;
    }
    setUrlError(null);
    setUrl('');
    onUrl(v);
  }

  return (
    <section class="panel" aria-labelledby="refs-title">
      <div class="panel-head">
        <h2 id="refs-title">Product image</h2>
        <span class="muted small">
          {refs.length}/{max}
        </span>
      </div>
      {refs.length > 0 && (
        <ul class="refs" aria-label="Reference images">
          {refs.map((r, i) => (
            <li class={`ref ref-${r.status}`} key={r.id}>
              {r.status === 'error' ? (
                <span class="ref-thumb-missing ref-thumb-failed" role="img" aria-label={`Reference ${i + 1}: not uploaded`}>
                  !
                </span>
              ) : broken.has(r.id) ? (
                <span class="ref-thumb-missing" role="img" aria-label={`Reference ${i + 1}: no preview`}>
                  {r.preview.startsWith('blob:') ? 'No preview' : 'Link'}
                </span>
              ) : (
                <img src={r.preview} alt={`Reference ${i + 1}: ${r.name}`} onError={() => setBroken((b) => new Set(b).add(r.id))} />
              )}
              <div class="ref-body">
                <span class="ref-name" title={r.name}>
                  {i + 1}. {r.name}
                </span>
                {r.status === 'uploading' && <span class="small muted">Uploading…</span>}
                {r.status === 'error' && <span class="small error-text">{r.error}</span>}
                {withRoles && r.status !== 'error' && (
                  <label class="ref-role">
                    <span class="sr-only">Role of reference {i + 1}</span>
                    <select value={r.role} onChange={(e) => onRole(r.id, e.currentTarget.value as Reference['role'])}>
                      {ROLES.map((role) => (
                        <option value={role} key={role}>
                          {ROLE_TEXT[role]}
                        </option>
                      ))}
                    </select>
                  </label>
                )}
              </div>
              <button type="button" class="icon-btn" onClick={() => onRemove(r.id)} aria-label={`Remove reference ${i + 1}`}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {duplicate && (
        <div class="notice" role="alertdialog" aria-labelledby="dup-text">
          <p id="dup-text">
            <strong>{duplicate.file.name || 'The pasted image'}</strong> is the same picture as <strong>{duplicate.of}</strong>. Adding it
            again puts the product in the scene twice.
          </p>
          <div class="notice-actions">
            <button type="button" class="btn btn-primary btn-small" onClick={() => onDuplicate(false)}>
              Skip it
            </button>
            <button type="button" class="btn btn-small" onClick={() => onDuplicate(true)}>
              Add it again
            </button>
          </div>
        </div>
      )}
      {lowRes && (
        <p class="notice" role="status">
          {lowRes}
        </p>
      )}
      {!full && (
        <div
          class={`dropzone${over ? ' dropzone-over' : ''}${refs.length ? ' dropzone-compact' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={drop}
        >
          <p>
            <strong>Drop {refs.length ? 'another image' : 'a packshot'} here</strong>
            <span class="muted"> or paste it (Ctrl+V)</span>
          </p>
          <button type="button" class="btn" onClick={() => input.current?.click()}>
            Choose file…
          </button>
          <input
            ref={input}
            type="file"
            accept="image/png,image/jpeg,image/webp,image/avif,image/tiff"
            multiple={max > 1}
            class="sr-only"
            tabIndex={-1}
            aria-label="Choose image files"
            onChange={(e) => {
              const files = [...(e.currentTarget.files ?? [])];
              e.currentTarget.value = '';
              if (files.length) onFiles(files);
            }}
          />
        </div>
      )}
      {!full && (
        <form class="url-row" onSubmit={addUrl}>
          <label class="field field-grow">
            <span class="sr-only">Image URL</span>
            <input
              type="url"
              placeholder="…or an image URL"
              value={url}
              onInput={(e) => setUrl(e.currentTarget.value)}
              aria-invalid={urlError ? 'true' : undefined}
            />
          </label>
          <button type="submit" class="btn">
            Add
          </button>
        </form>
      )}
      {urlError && (
        <p class="error small" role="alert">
          {urlError}
        </p>
      )}
      {withRoles && (
        <p class="muted small">
          Roles: on Auto the prompt decides (“place the product from image 1 on the table in image 2”); the first image is the
          product unless said otherwise.
        </p>
      )}
    </section>
  );
}
