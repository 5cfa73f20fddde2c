// The one DOM helper the webviews (chat, usage, costs) build with: every text goes in as
// textContent, never as HTML (model ids, request ids and errors come from providers). A
// button is always `type="button"`: none of them submits a form.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; testId?: string; text?: string; title?: string } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.testId) node.setAttribute('data-testid', props.testId);
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title !== undefined) node.title = props.title;
  if (node instanceof HTMLButtonElement) node.type = 'button';
  node.append(...children);
  return node;
}
