import { describe, expectTypeOf, it } from 'vitest';
import {
  ApiError,
  Client,
  TaskFailedError,
  type ApiErrorCode,
  type CreatedTask,
  type ImageToImageProInput,
  type LibrarySceneInfo,
  type ModelName,
  type ServedModel,
  type ServedRoutes,
  type TaskList,
  type TaskObject,
} from './index.js';

// Only types are checked here (tsc runs this file); nothing is sent.
const client = new Client({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k' });

describe('SDK types', () => {
  it('types create() by model', () => {
    expectTypeOf(client.tasks.create).toBeCallableWith('gpt-image-2-image-to-image', {
      prompt: 'x', input_urls: ['https://a/b.png'], aspect_ratio: '21:9', resolution: '4K',
    });
    expectTypeOf(client.tasks.create).toBeCallableWith('gpt-image-2-pro', { prompt: 'x', aspect_ratio: '1:1' });
    expectTypeOf(client.tasks.create).returns.resolves.toEqualTypeOf<CreatedTask>();
    expectTypeOf<ImageToImageProInput['resolution']>().toEqualTypeOf<'1K' | '2K' | undefined>();
    expectTypeOf<'gpt-image-2-image-to-image-pro'>().toExtend<ModelName>();

    if (Math.random() > 2) {
      // @ts-expect-error Pro has no 4K
      void client.tasks.create('gpt-image-2-image-to-image-pro', { prompt: 'x', input_urls: [], resolution: '4K' });
      // @ts-expect-error Pro has no 2:1
      void client.tasks.create('gpt-image-2-image-to-image-pro', { prompt: 'x', input_urls: [], aspect_ratio: '2:1' });
      // @ts-expect-error image-to-image needs input_urls
      void client.tasks.create('gpt-image-2-image-to-image', { prompt: 'x' });
      // @ts-expect-error not a model name
      void client.tasks.create('gpt-image-3', { prompt: 'x' });
      // @ts-expect-error text-to-image Pro has no auto
      void client.tasks.create('gpt-image-2-pro', { prompt: 'x', aspect_ratio: 'auto' });
    }
  });

  it('types reads and errors', () => {
    expectTypeOf(client.tasks.get).returns.resolves.toEqualTypeOf<TaskObject>();
    expectTypeOf(client.tasks.list).returns.resolves.toEqualTypeOf<TaskList>();
    expectTypeOf(client.tasks.wait).returns.resolves.toEqualTypeOf<TaskObject>();
    expectTypeOf<TaskObject['status']>().toEqualTypeOf<'queued' | 'handling' | 'archiving' | 'success' | 'fail'>();
    expectTypeOf<ApiError['status']>().toBeNumber();
    expectTypeOf<ApiError['requestId']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<'NETWORK'>().toExtend<ApiErrorCode>();
    expectTypeOf<TaskFailedError>().toExtend<ApiError>();
    expectTypeOf<TaskFailedError['taskError']>().toEqualTypeOf<{ code: string; message: string }>();
  });

  it('types the served models and routes', () => {
    expectTypeOf(client.models).returns.resolves.toEqualTypeOf<ServedModel[]>();
    expectTypeOf(client.routes).returns.resolves.toEqualTypeOf<ServedRoutes>();
    expectTypeOf<ServedModel['routes']>().toEqualTypeOf<Array<'default' | 'studio' | 'hiapi' | 'openai' | 'comfyui'> | undefined>();
    expectTypeOf<ServedRoutes['defaultEngine']>().toEqualTypeOf<'studio' | 'hiapi' | 'openai' | 'comfyui' | undefined>();
  });

  it('types the scene library', () => {
    expectTypeOf(client.scenes).returns.resolves.toEqualTypeOf<LibrarySceneInfo[]>();
    expectTypeOf<LibrarySceneInfo>().toEqualTypeOf<{ id: string; title: string; tags: string[]; width: number; height: number; sha256: string; thumbnail_url: string; expireAt: number }>();
  });
});
