import { isImageFile } from './batch.js';

/** A file with the path it had under what was dropped or picked (`folder/sub/a.png`, or just `a.png`). */
export interface PickedFile {
  file: File;
  path: string;
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries answers in chunks (100 at a time in Chromium) until it answers an empty list.
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((chunk) => {
        if (chunk.length === 0) resolve(out);
        else {
          out.push(...chunk);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path: entry.fullPath.replace(/^\//, '') || file.name });
  } else if (entry.isDirectory) {
    const children = await readAll((entry as FileSystemDirectoryEntry).createReader());
    children.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    for (const child of children) await walk(child, out);
  }
}

/**
 * The image files in a drop, folders opened recursively (DataTransferItem.webkitGetAsEntry), in
 * name order within each folder. Must be called inside the drop event: the items are gone after it.
 */
export function filesFromDrop(dt: DataTransfer): Promise<PickedFile[]> {
  // Take every entry synchronously, before the first await ends the event's access to the items.
  const entries: FileSystemEntry[] = [];
  const loose: PickedFile[] = [];
  for (const item of [...dt.items]) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push({ file: f, path: f.name });
    }
  }
  if (entries.length === 0 && loose.length === 0) {
    for (const f of dt.files) loose.push({ file: f, path: f.name });
  }
  return (async () => {
    const out: PickedFile[] = [...loose];
    for (const e of entries) await walk(e, out);
    return out.filter((p) => isImageFile(p.file));
  })();
}

/** The image files an `<input type=file>` holds (with `webkitdirectory`, the folder's files and their paths). */
export function filesFromInput(list: FileList | null): PickedFile[] {
  const out = [...(list ?? [])].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
  out.sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
  return out.filter((p) => isImageFile(p.file));
}
