import { useEffect, useState } from 'preact/hooks';
import { measureImage, sourceRect, type Measured, type Placement } from '../image-box.js';

interface Props {
  /** the image to compare against, or null for the result alone */
  before: string | null;
  /**
   * `source`: the product photo, drawn so its product sits on the box the engine placed it in
   * (`placement`), over a neutral checker; `result`: an earlier render of the same frame, drawn whole
   */
  beforeKind: 'source' | 'result';
  placement: Placement | null;
  after: string;
  /** the output's size, until the image itself says */
  width: number;
  height: number;
  alt: string;
}

/**
 * The result with the image it came from under a draggable divider, lined up so the wipe compares
 * like with like. A range input drives it, so arrow keys and screen readers work the same as a pointer.
 */
export function Compare({ before, beforeKind, placement, after, width, height, alt }: Props) {
  const [pos, setPos] = useState(50);
  const [natural, setNatural] = useState<{ src: string; w: number; h: number } | null>(null);
  const [source, setSource] = useState<{ url: string; m: Measured | null } | null>(null);
  const dims = natural?.src === after ? natural : { w: width, h: height };
  const frame = `aspect-ratio: ${dims.w} / ${dims.h}; --ar: ${(dims.w / dims.h).toFixed(4)}`;
  const onLoad = (e: Event) => {
    const img = e.currentTarget as HTMLImageElement;
    if (img.naturalWidth) setNatural({ src: after, w: img.naturalWidth, h: img.naturalHeight });
  };
  const aligned = before !== null && beforeKind === 'source' && placement !== null;
  useEffect(() => {
    if (!aligned || !before) return;
    let live = true;
    void measureImage(before).then((m) => live && setSource({ url: before, m }));
    return () => {
      live = false;
    };
  }, [aligned, before]);

  if (!before) {
    return (
      <figure class="compare" style={frame}>
        <img class="compare-after" src={after} alt={alt} onLoad={onLoad} />
      </figure>
    );
  }
  let placed: string | undefined;
  if (aligned && source?.url === before) {
    // an image the page cannot read (another site's, without CORS) is fitted into the product's box
    const r = source.m ? sourceRect(source.m, placement!) : placement!;
    const pct = (v: number, of: number) => `${((v / of) * 100).toFixed(3)}%`;
    placed = `left: ${pct(r.x, dims.w)}; top: ${pct(r.y, dims.h)}; width: ${pct(r.width, dims.w)}; height: ${pct(r.height, dims.h)}`;
  }
  return (
    <figure class="compare" style={frame}>
      <img class="compare-after" src={after} alt={alt} onLoad={onLoad} />
      <div class={`compare-before${aligned ? ' compare-before-placed' : ''}`} style={{ clipPath: `inset(0 ${100 - pos}% 0 0)` }} aria-hidden="true">
        {aligned ? (
          // the product photo at the scale and place the engine used; until measured, nothing is drawn
          placed && <img class="compare-source compare-placed" src={before} alt="" style={placed} />
        ) : (
          <img class="compare-source" src={before} alt="" />
        )}
      </div>
      <div class="compare-line" style={{ left: `${pos}%` }} aria-hidden="true">
        <span class="compare-knob" />
      </div>
      <span class="compare-tag compare-tag-before" aria-hidden="true">
        Before
      </span>
      <span class="compare-tag compare-tag-after" aria-hidden="true">
        After
      </span>
      <input
        class="compare-range"
        type="range"
        min={0}
        max={100}
        step={1}
        value={pos}
        aria-label="Before and after divider"
        aria-valuetext={`${pos}% before`}
        onInput={(e) => setPos(Number(e.currentTarget.value))}
      />
    </figure>
  );
}
