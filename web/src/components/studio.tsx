import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ApiClient, TaskObject } from '../api.js';
import { maskKey } from '../key-store.js';
import { describePlan } from '../planner.js';
import { useWorkspace } from '../workspace.js';
import { BatchView } from './batch-view.js';
import { History } from './history.js';
import { RenderForm } from './render-form.js';
import { Stage } from './stage.js';

interface Props {
  api: ApiClient;
  apiKey: string;
  onSignOut: () => void;
}

/**
 * The top bar and the three views. All stay mounted (the other is hidden), so the form keeps its
 * uploads, the stage its variants and a batch runs on while another view is open.
 */
export function Studio({ api, apiKey, onSignOut }: Props) {
  const [view, setView] = useState<'studio' | 'batch' | 'history'>('studio');
  const workspace = useWorkspace(api);
  // The batch view mounts on its first visit (its file inputs stay out of the page until then) and then stays.
  const [batchOpened, setBatchOpened] = useState(false);
  const stageRef = useRef<HTMLElement>(null);
  const [revealStage, setRevealStage] = useState(false);

  // After Generate, bring the progress into view once it is on the page (on a phone it sits below the form).
  useEffect(() => {
    if (!revealStage) return;
    setRevealStage(false);
    const el = stageRef.current;
    if (el && el.getBoundingClientRect().top > window.innerHeight * 0.4) el.scrollIntoView({ behavior: 'smooth', block: 'start' });
  }, [revealStage]);

  // A newly selected turn is shown from the top of the stage (on a laptop the stage scrolls on its own).
  useEffect(() => {
    const el = stageRef.current;
    if (el && el.scrollTop > 0) el.scrollTo({ top: 0, behavior: 'smooth' });
  }, [workspace.selected]);

  const showStudio = useCallback(() => setView('studio'), []);
  const prompts = useMemo(() => Object.fromEntries(workspace.turns.filter((t) => t.kind !== 'history').map((t) => [t.taskId, t.prompt])), [workspace.turns]);

  function openFromHistory(task: TaskObject) {
    workspace.remember(task);
    const parent = task.reshoot?.lineage?.parent ?? null;
    const parentTask = parent ? workspace.tasks[parent] : undefined;
    workspace.addTurn({
      taskId: task.taskId,
      parentId: parent && workspace.turns.some((t) => t.taskId === parent) ? parent : null,
      kind: 'history',
      prompt: prompts[task.taskId] ?? describePlan(task.reshoot?.plan) ?? `Task ${task.taskId}`,
      beforeUrl: parentTask?.output?.[0]?.url ?? null,
      beforeKind: 'result',
      request: null,
    });
    setView('studio');
  }

  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true" />
          reshoot <span class="brand-sub">studio</span>
        </div>
        <nav class="tabs" aria-label="Views">
          <button type="button" class="tab" aria-current={view === 'studio' ? 'page' : undefined} onClick={() => setView('studio')}>
            Studio
          </button>
          <button type="button" class="tab" aria-current={view === 'batch' ? 'page' : undefined} onClick={() => {
              setBatchOpened(true);
              setView('batch');
            }}>
            Batch
          </button>
          <button type="button" class="tab" aria-current={view === 'history' ? 'page' : undefined} onClick={() => setView('history')}>
            History
          </button>
        </nav>
        <div class="keybox">
          <span class="muted small" title="API key in use">
            Key <code>{maskKey(apiKey)}</code>
          </span>
          <button type="button" class="btn btn-quiet btn-small" onClick={onSignOut}>
            Change key
          </button>
        </div>
      </header>

      <History api={api} active={view === 'history'} prompts={prompts} onOpen={openFromHistory} />
      <main class="studio" id={view === 'studio' ? 'main' : undefined} hidden={view !== 'studio'}>
        <RenderForm api={api} workspace={workspace} onPasted={showStudio} onSent={() => setRevealStage(true)} />
        <section class="stage" ref={stageRef} aria-label="Result">
          <Stage api={api} workspace={workspace} />
        </section>
      </main>
      {batchOpened && <BatchView api={api} active={view === 'batch'} />}
    </div>
  );
}
