// The one DOM helper both webviews (chat, usage) build with: every text goes in as
// textContent, never as HTML (model ids, request ids and errors come from providers).

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; testId?: string; text?: string } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.testId) node.setAttribute('data-testid', props.testId);
  if (props.text !== undefined) node.textContent = props.text;
  node.append(...children);
  return node;
}
