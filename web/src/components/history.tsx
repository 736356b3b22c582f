import { useEffect, useState } from 'preact/hooks';
import type { ApiClient, TaskList, TaskObject } from '../api.js';
import { describePlan } from '../planner.js';

const PAGE_SIZE = 8;

interface Props {
  api: ApiClient;
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

/** Past tasks of this key, newest first, a page at a time. */
export function History({ api, onOpen }: Props) {
  const [page, setPage] = useState(1);
  const [data, setData] = useState<TaskList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    let live = true;
    setLoading(true);
    api
      .listTasks(page, PAGE_SIZE)
      .then((d) => {
        if (!live) return;
        setData(d);
        setError(null);
      })
      .catch((err: Error) => live && setError(err.message))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [api, page]);

  const pages = data ? Math.max(1, Math.ceil(data.total / PAGE_SIZE)) : 1;
  const now = Date.now();

  return (
    <main class="history" id="main" aria-labelledby="history-title" aria-busy={loading}>
      <div class="history-head">
        <h1 id="history-title">History</h1>
        {data && <span class="muted">{data.total === 1 ? '1 task' : `${data.total} tasks`}</span>}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {data && data.tasks.length === 0 && <p class="empty muted">No tasks yet. Your renders will appear here.</p>}
      {data && data.tasks.length > 0 && (
        <ul class="history-grid">
          {data.tasks.map((t) => {
            const out = t.output?.[0];
            const expired = out ? out.expireAt > 0 && out.expireAt * 1000 < now : false;
            const url = t.status === 'success' && out && !expired ? out.url : undefined;
            return (
              <li key={t.taskId} class={`card card-${t.status}`}>
                <button type="button" class="card-open" disabled={!url} onClick={() => onOpen(t)} aria-label={url ? `Open task ${t.taskId}` : undefined}>
                  <span class="card-thumb">
                    {url ? (
                      <img src={url} alt="" loading="lazy" decoding="async" />
                    ) : (
                      <span class="card-placeholder">{t.status === 'fail' ? '!' : expired ? 'Expired' : '…'}</span>
                    )}
                  </span>
                </button>
                <div class="card-body">
                  <div class="card-line">
                    <span class={`badge badge-${t.status}`}>{STATUS_LABEL[t.status] ?? t.status}</span>
                    <span class="muted small">{modelLabel(t.model)}</span>
                  </div>
                  <span class="muted small">{when(t.created)}</span>
                  {t.status === 'success' && describePlan(t.reshoot?.plan) && <p class="card-caption">{describePlan(t.reshoot?.plan)}</p>}
                  {t.status === 'fail' && t.error && (
                    <p class="card-error">
                      <span class="sr-only">Reason: </span>
                      {t.error.message}
                    </p>
                  )}
                  <code class="card-id" title={t.taskId}>
                    {t.taskId}
                  </code>
                </div>
              </li>
            );
          })}
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
