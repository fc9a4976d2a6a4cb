// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform templates under test.
import { parse } from '@cdktf/hcl2json';
import { describe, expect, it } from 'vitest';
import { synthesizeModule } from './synthesize.js';

function* strings(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value))
    for (const [i, v] of value.entries()) yield* strings(v, `${path}[${i}]`);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) yield* strings(v, `${path}.${k}`);
}

/**
 * Terraform reads every JSON string as a template. A heredoc is the native
 * form with the same semantics (quotes need no escaping), so HashiCorp's HCL
 * parser (compiled to wasm) checks each one exactly as Terraform would.
 */
async function parseTemplate(template: string): Promise<void> {
  await parse('check.tf', `x = <<EOT_TEMPLATE_CHECK\n${template}\nEOT_TEMPLATE_CHECK\n`);
}

describe('the synthesized expressions', () => {
  it('are rejected by the parser when malformed', async () => {
    await expect(parseTemplate('${var.a != "" ? var.a : }')).rejects.toThrow(/Invalid expression/);
    await expect(
      parseTemplate('${ { for k, v in local.a : k => v if v != "" } }'),
    ).resolves.toBeUndefined();
  });

  it('all parse as HCL templates', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const [file, content] of Object.entries(synthesizeModule())) {
      for (const [path, value] of strings(JSON.parse(content), file)) {
        if (!value.includes('${') && !value.includes('%{')) continue;
        checked += 1;
        await parseTemplate(value).catch((error: Error) =>
          failures.push(`${path}: ${error.message}`),
        );
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });

  it('evaluate variable validations as conditions, not literal strings', () => {
    const { variable } = JSON.parse(synthesizeModule()['variables.tf.json']!) as {
      variable: Record<string, { validation?: Array<{ condition: string }> }>;
    };
    const conditions = Object.values(variable).flatMap((v) => v.validation ?? []);
    expect(conditions.length).toBeGreaterThan(0);
    for (const { condition } of conditions) expect(condition).toMatch(/^\$\{.*\}$/s);
  });
});
