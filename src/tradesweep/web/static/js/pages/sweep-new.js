// New sweep: the shared sweep form in sweep mode.

import { sweepForm } from "../sweep-form.js";

export function render(main, { query }) {
  return sweepForm(main, { mode: "sweep", query });
}
