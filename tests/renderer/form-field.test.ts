// @vitest-environment happy-dom
// One field of a form (FormField.vue): the markup every form had written out by hand, so that the
// e2e test's ids and the accessibility check's label, hint and alert stay as they were.
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import FormField from '../../renderer/src/components/FormField.vue';

/** The markup without Vue's placeholders for what is not shown. */
const html = (w: { html: (o: { raw: boolean }) => string }) => w.html({ raw: true }).replace(/<!--[\s\S]*?-->/g, '');

describe('a form field', () => {
  it('a label for the control, nothing else when there is no hint and no error', () => {
    const w = mount(FormField, {
      props: { for: 'x-name', label: 'Name' },
      slots: { default: '<input id="x-name" />' },
    });
    expect(html(w)).toBe('<div class="field"><label for="x-name">Name</label><input id="x-name"></div>');
  });

  it("a hint with its id, handed to the control for aria-describedby; an error as an alert, the control's aria-invalid", () => {
    const w = mount(FormField, {
      props: { for: 'x-img', label: 'Image size', hint: 'a multiple of 16', hintId: 'x-img-hint', error: 'too small' },
      slots: {
        default: `<template #default="{ describedby, invalid }"><input id="x-img" :aria-describedby="describedby" :aria-invalid="invalid" /></template>`,
      },
    });
    expect(html(w)).toBe(
      '<div class="field"><label for="x-img">Image size</label>' +
        '<input id="x-img" aria-describedby="x-img-hint" aria-invalid="true">' +
        '<span id="x-img-hint" class="hint">a multiple of 16</span>' +
        '<span class="error" role="alert">too small</span></div>',
    );
  });

  it('no error (null): no alert and aria-invalid false; no hint id: no aria-describedby; an empty hint is still shown', () => {
    const w = mount(FormField, {
      props: { for: 'x-b', label: 'Batch', hint: '', error: null },
      slots: {
        default: `<template #default="{ describedby, invalid }"><input id="x-b" :aria-describedby="describedby" :aria-invalid="invalid" /></template>`,
      },
    });
    expect(html(w)).toBe(
      '<div class="field"><label for="x-b">Batch</label><input id="x-b" aria-invalid="false"><span class="hint"></span></div>',
    );
  });

  it('markup in the label and the hint (slots), and classes added to the field', () => {
    const w = mount(FormField, {
      props: { for: 'x-aug', hintId: 'x-aug-hint' },
      attrs: { class: 'inline' },
      slots: {
        label: '<input id="x-aug" type="checkbox" /> Augment',
        hint: `<template #hint="{ id }"><span :id="id" class="hint">one</span><span class="hint">two</span></template>`,
      },
    });
    expect(html(w)).toBe(
      '<div class="field inline"><label for="x-aug"><input id="x-aug" type="checkbox"> Augment</label>' +
        '<span id="x-aug-hint" class="hint">one</span><span class="hint">two</span></div>',
    );
  });
});
