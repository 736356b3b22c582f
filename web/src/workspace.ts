import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, waitForTask, type ApiClient, type TaskObject } from './api.js';
import { readableMessage } from './messages.js';
import { isTerminal, loadSession, saveSession, type Turn } from './state.js';

/** The turns of this session and the tasks behind them, shared by the form, the stage and the history. */
export interface Workspace {
  turns: readonly Turn[];
  selected: string | null;
  tasks: Readonly<Record<string, TaskObject>>;
  /** when the studio started following each task (for the progress clock) */
  startedAt: Readonly<Record<string, number>>;
  select: (taskId: string) => void;
  /** adds a turn (once) and selects it */
  addTurn: (turn: Turn) => void;
  /** follows a task until it ends, keeping `tasks` current */
  track: (taskId: string) => void;
  /** puts a task object the page already has (from the history) into `tasks` */
  remember: (task: TaskObject) => void;
}

export function useWorkspace(api: ApiClient): Workspace {
  const [saved] = useState(loadSession);
  const [turns, setTurns] = useState<Turn[]>(saved.turns);
  const [selected, setSelected] = useState<string | null>(saved.selected);
  const [tasks, setTasks] = useState<Record<string, TaskObject>>({});
  const [startedAt, setStartedAt] = useState<Record<string, number>>({});

  useEffect(() => saveSession({ turns, selected }), [turns, selected]);

  const track = useCallback(
    (taskId: string) => {
      setStartedAt((s) => ({ ...s, [taskId]: Date.now() }));
      waitForTask(api, taskId, (task) => setTasks((ts) => ({ ...ts, [taskId]: task }))).catch((err: ApiError) => {
        setTasks((ts) => ({
          ...ts,
          [taskId]: {
            ...(ts[taskId] ?? { taskId, model: '', created: Math.floor(Date.now() / 1000), completed: 0, storage: 'temp' }),
            status: 'fail',
            error: { code: err.code, message: `Lost track of the task: ${readableMessage(err.message)}` },
          } as TaskObject,
        }));
      });
    },
    [api],
  );

  // Turns restored from the last visit: fetch their tasks again (and follow any still running).
  const restored = useRef(false);
  useEffect(() => {
    if (restored.current) return;
    restored.current = true;
    for (const t of saved.turns) {
      api
        .getTask(t.taskId)
        .then((task) => {
          setTasks((ts) => ({ ...ts, [task.taskId]: task }));
          if (!isTerminal(task)) track(task.taskId);
        })
        .catch(() => setTurns((ts) => ts.filter((x) => x.taskId !== t.taskId)));
    }
  }, [api, saved, track]);

  const addTurn = useCallback((turn: Turn) => {
    setTurns((ts) => (ts.some((t) => t.taskId === turn.taskId) ? ts : [...ts, turn]));
    setSelected(turn.taskId);
  }, []);
  const remember = useCallback((task: TaskObject) => setTasks((ts) => ({ ...ts, [task.taskId]: task })), []);

  return { turns, selected, tasks, startedAt, select: setSelected, addTurn, track, remember };
}
