import { describe, expect, it } from 'vitest';
import { filesFromDrop, filesFromInput } from './dropped-files.js';

// A dropped folder reaches the page as FileSystemEntry objects, which exist only in a browser and
// which a test browser cannot produce without a real drag from the desktop (the e2e test drops
// files). These stand-ins follow the File and Directory Entries API as Chromium implements it,
// including readEntries answering in chunks until it answers an empty list.

const file = (name: string, type = 'image/png') => new File([new Uint8Array([1, 2, 3])], name, { type });

function fileEntry(fullPath: string, f: File) {
  return { isFile: true, isDirectory: false, name: f.name, fullPath, file: (ok: (f: File) => void) => ok(f) };
}

function dirEntry(fullPath: string, children: unknown[], chunk = 2) {
  return {
    isFile: false,
    isDirectory: true,
    name: fullPath.split('/').pop(),
    fullPath,
    createReader() {
      let at = 0;
      return {
        readEntries(ok: (entries: unknown[]) => void) {
          const part = children.slice(at, at + chunk);
          at += part.length;
          setTimeout(() => ok(part), 0);
        },
      };
    },
  };
}

function dataTransfer(items: Array<{ entry: unknown; file?: File }>): DataTransfer {
  return {
    items: items.map((i) => ({ kind: 'file', webkitGetAsEntry: () => i.entry, getAsFile: () => i.file ?? null })),
    files: items.flatMap((i) => (i.file ? [i.file] : [])),
  } as unknown as DataTransfer;
}

describe('files from a drop', () => {
  it('opens folders recursively, reads every chunk, sorts by name in each folder and keeps only images', async () => {
    const shoot = dirEntry('/shoot', [
      fileEntry('/shoot/mug-10.png', file('mug-10.png')),
      fileEntry('/shoot/notes.txt', file('notes.txt', 'text/plain')),
      dirEntry('/shoot/b-side', [fileEntry('/shoot/b-side/can.webp', file('can.webp', 'image/webp'))]),
      fileEntry('/shoot/mug-2.png', file('mug-2.png')),
      fileEntry('/shoot/.DS_Store', file('.DS_Store', '')),
    ]);
    const loose = file('dripper.jpg', 'image/jpeg');
    const got = await filesFromDrop(dataTransfer([{ entry: fileEntry('/dripper.jpg', loose) }, { entry: shoot }]));
    expect(got.map((p) => p.path)).toEqual(['dripper.jpg', 'shoot/b-side/can.webp', 'shoot/mug-2.png', 'shoot/mug-10.png']);
    expect(got[0]!.file).toBe(loose);
  });

  it('takes the files themselves where the browser gives no entries', async () => {
    const a = file('a.png');
    const got = await filesFromDrop(dataTransfer([{ entry: null, file: a }, { entry: null, file: file('b.txt', 'text/plain') }]));
    expect(got).toEqual([{ file: a, path: 'a.png' }]);
  });
});

describe('files from an input', () => {
  it('keeps a folder pick’s paths, in name order, images only', () => {
    const f = (name: string, rel: string, type = 'image/png') => Object.defineProperty(file(name, type), 'webkitRelativePath', { value: rel });
    const list = [f('b.png', 'shoot/b.png'), f('x.txt', 'shoot/x.txt', 'text/plain'), f('a.png', 'shoot/a.png')] as unknown as FileList;
    expect(filesFromInput(list).map((p) => p.path)).toEqual(['shoot/a.png', 'shoot/b.png']);
    expect(filesFromInput(null)).toEqual([]);
  });
});
