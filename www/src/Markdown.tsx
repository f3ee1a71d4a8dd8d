// Assistant replies rendered as Markdown, which is what DeepSeek answers in. react-markdown
// builds React elements, never raw HTML: HTML in a reply is shown as text, and links with a
// `javascript:` (or any non-web) URL lose it. remark-gfm adds GitHub's tables, task lists,
// strikethrough and bare links.

import { memo, type ComponentProps } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import remarkGfm from "remark-gfm";

const PLUGINS = [remarkGfm];

/** Links in a reply open in a new tab, without giving it this page (`noopener`). */
const COMPONENTS: Components = {
  a: ({ node: _node, ...props }: ComponentProps<"a"> & { node?: unknown }) => (
    <a {...props} target="_blank" rel="noopener noreferrer" />
  ),
};

/** `text` as Markdown. Memoised: a streaming reply re-renders it on every token, the finished
 *  messages above it are not parsed again. */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={PLUGINS} components={COMPONENTS}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
