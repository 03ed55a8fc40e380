/**
 * generatePrompt and getImprovementSuggestions take the seed's task shape: `{ id, title, description }` with any
 * other field optional (labels, priority, type missing, or given as undefined).
 */
import { describe, expect, it } from '@jest/globals';
import { PromptGenerator, toPromptTask } from './prompt-generator.js';
import { defaultConfig, gitSettings } from '../../test/fixtures/prompt-fixtures.js';

const config = defaultConfig();
const generator = new PromptGenerator(config.promptGenerator, gitSettings(config));

describe('the seed task shape', () => {
  it('renders a prompt from id, title and description alone', async () => {
    const prompt = await generator.generatePrompt({
      id: 't-1',
      title: 'Add a /health endpoint',
      description: 'Return 200',
    });
    expect(prompt.content).toContain('Add a /health endpoint');
    expect(prompt.content).toContain('Return 200');
    expect(prompt.metadata.template).toBe('default_template');
  });

  it('takes the optional fields when given, and ignores ones given as undefined', async () => {
    const full = await generator.generatePrompt({
      id: 't-2',
      title: 'Login',
      description: 'JWT',
      priority: 'high',
      labels: ['feature', 'security'],
      type: 'feature',
    });
    expect(full.content).toContain('`feature`');
    expect(full.content).toContain('priority high');
    const sparse = await generator.generatePrompt({
      id: 't-3',
      title: 'Login',
      description: 'JWT',
      labels: undefined,
      priority: undefined,
    });
    expect(sparse.content).toContain('priority medium');
    expect(toPromptTask({ id: 'x', title: 'T', description: 'D', labels: undefined })).toMatchObject({
      labels: [],
      priority: 'medium',
      type: 'default',
      attempts: 0,
    });
  });

  it('suggests improvements for it too', () => {
    const suggestions = generator.getImprovementSuggestions({ id: 't-4', title: 'Fix', description: 'It breaks' });
    expect(suggestions).toHaveProperty('contextImprovements');
  });
});
