import type { ReportData } from './data.js';
import { renderHtml } from './render-html.js';
import { renderJson } from './render-json.js';
import { renderMarkdown } from './render-md.js';
import { renderText, type TextOptions } from './render-text.js';

export type ReportFormat = 'text' | 'json' | 'md' | 'html';
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'json', 'md', 'html'];

export type RenderOptions = TextOptions;

/** Renders the report in one format. Color applies to text only (the caller honours NO_COLOR / TTY). */
export function render(data: ReportData, format: ReportFormat, opts: RenderOptions = {}): string {
  switch (format) {
    case 'text':
      return renderText(data, opts);
    case 'json':
      return renderJson(data);
    case 'md':
      return renderMarkdown(data);
    case 'html':
      return renderHtml(data);
    default:
      throw new Error(`unknown report format "${String(format)}": use one of ${REPORT_FORMATS.join(', ')}`);
  }
}
