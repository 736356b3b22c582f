import { useEffect, useState } from 'preact/hooks';
import type { ApiClient, TaskList, TaskObject } from '../api.js';
import { describeError, readableMessage } from '../messages.js';
import { describePlan } from '../planner.js';
import { loadHidden, matchesSearch, saveHidden } from '../state.js';
import { useThumbnail } from '../thumbnail.js';

const PAGE_SIZE = 8;
/** A search looks through this many of the newest tasks (the API's largest page). */
const SEARCH_DEPTH = 100;

interface Props {
  api: ApiClient;
  /** false while another view shows: the list is fetched again each time it is opened */
  active: boolean;
  /** the prompts this browser sent, by task id (the API does not return a task's input) */
  prompts: Readonly<Record<string, string>>;
  onOpen: (task: TaskObject) => void;
}

const STATUS_LABEL: Record<string, string> = {
  queued: 'Queued',
  handling: 'Rendering',
  archiving: 'Saving',
  success: 'Done',
  fail: 'Failed',
};

/** Task times are Unix seconds (hiapi contract). */
function when(seconds: number): string {
  const d = new Date(seconds * 1000);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

const modelLabel = (m: string) => (m.endsWith('-pro') ? 'Pro' : 'Standard');

/** Past tasks of this key, newest first, a page at a time; a search looks through the newest hundred. */
export function History({ api, active, prompts, onOpen }: Props) {
  const [page, setPage] = useState(1);
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState('');
  const [data, setData] = useState<TaskList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(loadHidden);
  const searching = query.trim() !== '' || status !== '';

  useEffect(() => {
    if (!active) return;
    let live = true;
    setLoading(true);
    api
      .listTasks(searching ? 1 : page, searching ? SEARCH_DEPTH : PAGE_SIZE)
      .then((d) => {
        if (!live) return;
        setData(d);
        setError(null);
      })
      .catch((err: unknown) => live && setError(describeError(err)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [api, page, active, searching]);

  const hide = (ids: ReadonlySet<string>) => {
    setHidden(ids);
    saveHidden(ids);
  };

  const caption = (t: TaskObject) => (t.status === 'success' ? describePlan(t.reshoot?.plan) : null);
  const shown = (data?.tasks ?? []).filter(
    (t) =>
      !hidden.has(t.taskId) &&
      (!status || t.status === status) &&
      matchesSearch(query, [prompts[t.taskId], caption(t), STATUS_LABEL[t.status], t.error?.message, t.taskId, modelLabel(t.model)]),
  );
  const pages = data && !searching ? Math.max(1, Math.ceil(data.total / PAGE_SIZE)) : 1;
  const now = Date.now();

  return (
    <main class="history" id={active ? 'main' : undefined} aria-labelledby="history-title" aria-busy={loading} hidden={!active}>
      <div class="history-head">
        <h1 id="history-title">History</h1>
        {data && <span class="muted">{data.total === 1 ? '1 task' : `${data.total} tasks`}</span>}
        <div class="history-filters" role="search">
          <label class="field">
            <span class="sr-only">Search the history</span>
            <input type="search" placeholder="Search prompts, scenes, ids…" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
          </label>
          <label class="field">
            <span class="sr-only">Status</span>
            <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
              <option value="">All</option>
              <option value="success">Done</option>
              <option value="fail">Failed</option>
              <option value="handling">Rendering</option>
            </select>
          </label>
          {hidden.size > 0 && (
            <button type="button" class="btn btn-quiet btn-small" onClick={() => hide(new Set())}>
              Show {hidden.size} removed
            </button>
          )}
        </div>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {searching && data && (
        <p class="muted small history-matches" aria-live="polite">
          {shown.length === 1 ? '1 match' : `${shown.length} matches`} among the newest {Math.min(data.total, SEARCH_DEPTH)} tasks
        </p>
      )}
      {data && shown.length === 0 && !searching && <p class="empty muted">No tasks yet. Your renders will appear here.</p>}
      {shown.length > 0 && (
        <ul class="history-grid">
          {shown.map((t) => (
            <Card key={t.taskId} task={t} prompt={prompts[t.taskId]} caption={caption(t)} now={now} onOpen={onOpen} onRemove={() => hide(new Set(hidden).add(t.taskId))} />
          ))}
        </ul>
      )}
      {data && pages > 1 && (
        <nav class="pager" aria-label="Pages">
          <button type="button" class="btn" disabled={page <= 1 || loading} onClick={() => setPage(page - 1)}>
            ← Newer
          </button>
          <span aria-live="polite">
            Page {page} of {pages}
          </span>
          <button type="button" class="btn" disabled={page >= pages || loading} onClick={() => setPage(page + 1)}>
            Older →
          </button>
        </nav>
      )}
    </main>
  );
}

interface CardProps {
  task: TaskObject;
  prompt: string | undefined;
  caption: string | null;
  now: number;
  onOpen: (task: TaskObject) => void;
  onRemove: () => void;
}

function Card({ task: t, prompt, caption, now, onOpen, onRemove }: CardProps) {
  const out = t.output?.[0];
  const expired = out ? out.expireAt > 0 && out.expireAt * 1000 < now : false;
  const url = t.status === 'success' && out && !expired ? out.url : undefined;
  const thumb = useThumbnail(url);
  return (
    <li class={`card card-${t.status}`}>
      <button type="button" class="card-open" disabled={!url} onClick={() => onOpen(t)} aria-label={url ? `Open task ${t.taskId}` : undefined}>
        <span class="card-thumb">
          {url ? (
            thumb !== undefined && <img src={thumb ?? url} alt="" decoding="async" />
          ) : (
            <span class="card-placeholder">{t.status === 'fail' ? '!' : expired ? 'Expired' : '…'}</span>
          )}
        </span>
      </button>
      <div class="card-body">
        <div class="card-line">
          <span class={`badge badge-${t.status}`}>{STATUS_LABEL[t.status] ?? t.status}</span>
          <span class="muted small">{modelLabel(t.model)}</span>
          <button type="button" class="icon-btn card-remove" onClick={onRemove} aria-label={`Remove task ${t.taskId} from this list`} title="Remove from this list">
            ×
          </button>
        </div>
        <span class="muted small">{when(t.created)}</span>
        {prompt && <p class="card-prompt">{prompt}</p>}
        {caption && <p class="card-caption">{caption}</p>}
        {t.status === 'fail' && t.error && (
          <p class="card-error">
            <span class="sr-only">Reason: </span>
            {readableMessage(t.error.message)}
          </p>
        )}
        <code class="card-id" title={t.taskId}>
          {t.taskId}
        </code>
      </div>
    </li>
  );
}
