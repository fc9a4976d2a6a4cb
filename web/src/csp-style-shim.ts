/**
 * The hub's CSP allows styles from 'self' only, which blocks `<style>` elements (even empty
 * ones) and `style` attributes set from script; xterm.js sizes and colours its DOM renderer
 * with both. CSSOM writes are not inline styles (CSP leaves them alone), so a `<style>` asked
 * for is an inert `<template>` whose text goes to a constructed stylesheet the document adopts,
 * and `setAttribute('style', …)` goes to the element's `style.cssText`. Nothing else on the
 * page makes either.
 */
const createElement = Document.prototype.createElement;

function adoptedStyle(el: HTMLStyleElement): HTMLStyleElement {
  const sheet = new CSSStyleSheet();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  let text = '';
  Object.defineProperty(el, 'textContent', {
    get: () => text,
    set: (value: string | null) => {
      text = value ?? '';
      sheet.replaceSync(text);
    },
  });
  const remove = el.remove.bind(el);
  el.remove = () => {
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
    remove();
  };
  return el;
}

export function installCspStyleShim(): void {
  Document.prototype.createElement = function (
    this: Document,
    tag: string,
    options?: ElementCreationOptions,
  ): HTMLElement {
    if (tag.toLowerCase() !== 'style') return createElement.call(this, tag, options);
    return adoptedStyle(createElement.call(this, 'template') as unknown as HTMLStyleElement);
  } as typeof Document.prototype.createElement;
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (this: Element, name: string, value: string) {
    if (name.toLowerCase() === 'style' && this instanceof HTMLElement) this.style.cssText = value;
    else setAttribute.call(this, name, value);
  };
}
