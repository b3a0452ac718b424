import { computed } from 'vue';
import { RECIPES, type RecipeName } from 'camd-studio/trainer/protocol';
import { num } from '../field-number.js';
import type { PretrainForm } from './usePretrainForm.js';

/** The recipe: the desktop one (the defaults, measured: docs/quality.md) or the paper's, one click each. */
export function usePretrainRecipe(form: PretrainForm) {
  function chooseRecipe(r: RecipeName): void {
    const x = RECIPES[r];
    Object.assign(form, {
      blr: x.blr,
      warmupEpochs: x.warmupEpochs,
      maskRatio: x.maskRatio,
      length: 'epochs',
      epochs: x.epochs,
    });
  }
  /** The recipe the form's settings are, if any. */
  const recipe = computed<RecipeName | null>(
    () =>
      (Object.keys(RECIPES) as RecipeName[]).find(
        (r) =>
          RECIPES[r].blr === num(form.blr) &&
          RECIPES[r].warmupEpochs === num(form.warmupEpochs) &&
          Math.abs(RECIPES[r].maskRatio - form.maskRatio) < 1e-9,
      ) ?? null,
  );
  return { recipe, chooseRecipe };
}
