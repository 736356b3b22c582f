/** Starting points for a prompt. The first two are the seed looks the engine is tuned on. */
export interface Preset {
  label: string;
  prompt: string;
}

const KEEP = 'keep the product shape and color unchanged';

export const PRESETS: readonly Preset[] = [
  {
    label: 'Dark slate, steam',
    prompt: `Place this exact product on a dark slate stone surface with dramatic side lighting and a soft steam wisp, moody editorial product photography, ${KEEP}`,
  },
  {
    label: 'Cafe counter, morning',
    prompt: `Place this exact product on a wooden cafe counter with a blurred warm cafe interior behind it, morning light, lifestyle product photography, ${KEEP}`,
  },
  { label: 'White marble, luxury', prompt: `On polished white marble, soft light from the left, luxury minimal product photography, ${KEEP}` },
  { label: 'Concrete, minimal', prompt: `On raw grey concrete in front of a plaster wall, hard light from the right, minimal, ${KEEP}` },
  { label: 'Pastel sweep', prompt: `On a seamless pastel pink sweep, soft high-key light, airy, ${KEEP}` },
  { label: 'Beach, golden hour', prompt: `On sand with a blurred beach behind, golden hour light from the back left, warm, ${KEEP}` },
  { label: 'Kitchen counter', prompt: `On a light wood kitchen counter with a blurred bright kitchen behind, soft window light from the left, ${KEEP}` },
  { label: 'Flat lay on linen', prompt: `Top-down flat lay on beige linen, soft even light, ${KEEP}` },
  { label: 'Night city bokeh', prompt: `On a dark glossy surface with blurred city at night and bokeh lights behind, cool rim light, ${KEEP}` },
  { label: 'Window light', prompt: `On a white oak table with window frame light pattern, soft morning light from the right, ${KEEP}` },
  { label: 'Top light, black', prompt: `On matte black paper, hard top light, low-key, dramatic, ${KEEP}` },
  { label: 'Palm leaf shadows', prompt: `On terrazzo in front of a warm plaster wall with palm leaf shadows, afternoon sun from the right, ${KEEP}` },
  { label: 'Bathroom shelf', prompt: `On white stone in a blurred bright bathroom, soft light, fresh and clean, ${KEEP}` },
  { label: 'Forest moss', prompt: `On dark stone with a blurred forest behind, mist, soft green light from the left, ${KEEP}` },
];
