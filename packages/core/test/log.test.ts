import { HOSTILE_TEXTS, PWNED } from '../../../test/helpers/hostile-text.js';
import { cut, fence, isWorkflowCommand } from '../src/log.js';

const ZERO_WIDTH_SPACE = '\u200B';

describe('fence', () => {
  test.each(HOSTILE_TEXTS.map((text) => [text]))('%j: no line is a workflow command', (text) => {
    const fenced = fence(text);
    // The runner splits on \r\n, \r and \n; fence joins with \n only.
    const lines = fenced.split(/\r\n|\r|\n/);
    expect(lines.filter(isWorkflowCommand)).toEqual([]);
    // Nothing is dropped: the text reads the same without the zero-width spaces.
    expect(fenced.replaceAll(ZERO_WIDTH_SPACE, '')).toBe(text.split(/\r\n|\r|\n/).join('\n'));
    expect(fenced).toContain(PWNED);
  });

  test('each payload really is a command before fencing (the corpus can fail)', () => {
    for (const text of HOSTILE_TEXTS.filter((t) => !t.includes('%0A'))) {
      expect(text.split(/\r\n|\r|\n/).some(isWorkflowCommand)).toBe(true);
    }
  });

  test.each([
    [
      'plain text is left alone',
      'service web reached a steady state.',
      'service web reached a steady state.',
    ],
    ['a colon pair inside a line is harmless', 'ratio 1::2 at 10:30', 'ratio 1::2 at 10:30'],
    ['%0A is not decoded', 'a%0A::warning::b', 'a%0A::warning::b'],
    ['lone \\r ends a line', 'a\r::warning::b', `a\n:${ZERO_WIDTH_SPACE}:warning::b`],
    ['indented command', '  ::debug::x', `  :${ZERO_WIDTH_SPACE}:debug::x`],
    ['v1 form anywhere', 'x ##[warning]y', `x #${ZERO_WIDTH_SPACE}#[warning]y`],
    ['empty', '', ''],
  ])('%s', (_name, text, expected) => {
    expect(fence(text)).toBe(expected);
  });
});

describe('isWorkflowCommand', () => {
  test.each([
    ['::warning::x', true],
    ['  ::error file=a:b,line=1::x', true],
    ['\u0085::add-mask::x', true],
    ['x ##[set-output name=a;]b', true],
    ['x :: y', false],
    ['::not-closed', false],
  ])('%j → %s', (line, expected) => {
    expect(isWorkflowCommand(line)).toBe(expected);
  });
});

describe('cut', () => {
  test.each([
    ['short', 80, 'short'],
    ['x'.repeat(80), 80, 'x'.repeat(80)],
    ['x'.repeat(81), 80, `${'x'.repeat(79)}…`],
    ['😀'.repeat(5), 3, '😀😀…'],
  ])('%j, %i', (text, max, expected) => {
    expect(cut(text, max)).toBe(expected);
  });
});
