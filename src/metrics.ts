import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  taskFinished(status: 'success' | 'fail', timings?: Record<string, number>): void;
  httpRequest(route: string, method: string, status: number, seconds: number): void;
}

/**
 * Prometheus metrics. Gauges that describe shared state (tasks by status, queue depth) are read from
 * the database at scrape time, so every process reports the same numbers.
 */
export function createMetrics(sources: { tasksByStatus(): Promise<Record<string, number>>; queueDepth(): Promise<number> }): Metrics {
  const registry = new Registry();
  new Gauge({
    name: 'reshoot_tasks',
    help: 'Tasks by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      for (const [status, n] of Object.entries(await sources.tasksByStatus())) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'reshoot_queue_depth',
    help: 'Render jobs waiting or running',
    registers: [registry],
    async collect() {
      this.set(await sources.queueDepth());
    },
  });
  const finished = new Counter({ name: 'reshoot_tasks_finished_total', help: 'Tasks finished by this process', labelNames: ['status'], registers: [registry] });
  const stage = new Histogram({
    name: 'reshoot_stage_duration_seconds',
    help: 'Duration of each pipeline stage',
    labelNames: ['stage'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  });
  const http = new Histogram({
    name: 'reshoot_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  return {
    registry,
    taskFinished(status, timings) {
      finished.inc({ status });
      for (const [name, ms] of Object.entries(timings ?? {})) stage.observe({ stage: name }, ms / 1000);
    },
    httpRequest(route, method, status, seconds) {
      http.observe({ route, method, status: String(status) }, seconds);
    },
  };
}
