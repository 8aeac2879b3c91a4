/**
 * Device states' colours: the Okabe–Ito palette (told apart with the common colour-vision deficiencies) for the
 * states of a patch in flight and its outcomes, greys for the states around them. Colour is never the only cue:
 * every chart has a legend, titles on its shapes, and its facts as a table.
 */
export const STATE_COLOURS: Readonly<Record<string, string>> = {
  unenrolled: '#ffffff',
  enrolled: '#d9d9d9',
  ineligible: '#a6a6a6',
  current: '#ececec',
  staged: '#f0e442',
  applying: '#e69f00',
  applied: '#56b4e9',
  verified: '#009e73',
  failed: '#d55e00',
  rollingBack: '#cc79a7',
  rolledBack: '#0072b2',
  needsReboot: '#000000',
  retired: '#737373',
};

/** How a person reads a state's name. */
export const STATE_LABELS: Readonly<Record<string, string>> = {
  unenrolled: 'not enrolled',
  enrolled: 'enrolled',
  ineligible: 'ineligible',
  current: 'current (on its baseline)',
  staged: 'instructed (staged)',
  applying: 'applying',
  applied: 'applied',
  verified: 'verified',
  failed: 'failed',
  rollingBack: 'rolling back',
  rolledBack: 'rolled back',
  needsReboot: 'needs reboot',
  retired: 'retired',
};

export const colourOf = (state: string): string => STATE_COLOURS[state] ?? '#ffffff';
export const labelOf = (state: string): string => STATE_LABELS[state] ?? state;

/** Lines and marks other than states. */
export const INK = { axis: '#444444', budget: '#d55e00', halt: '#d55e00', gate: '#009e73', pause: '#56b4e9', cursor: '#0072b2' };
