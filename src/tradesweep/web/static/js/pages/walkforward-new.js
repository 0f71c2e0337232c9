// New walk-forward analysis: the sweep form plus the training and test windows.

import { sweepForm } from "../sweep-form.js";

export function render(main, { query }) {
  return sweepForm(main, { mode: "walkforward", query });
}
