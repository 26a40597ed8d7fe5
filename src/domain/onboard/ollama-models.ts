/*
 * The five models of the onboard Ollama, as the provider's docs/1-howto/4-ollama.md lists them
 * (names, sizes, digests, modification times and details verbatim), with what em-sim adds to
 * simulate them: capabilities and lengths from the models' public cards, and speeds [inferred]
 * for an embedded GPU (tokens per second).
 */

/** The `details` object of /api/tags. */
export interface OllamaModelDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[];
  parameter_size: string;
  quantization_level: string;
}

/** One onboard model. */
export interface OllamaModel {
  name: string;
  modified_at: string;
  /** Bytes. */
  size: number;
  digest: string;
  details: OllamaModelDetails;
  /** /api/show's capabilities: "completion", "vision", "thinking", "tools". */
  capabilities: string[];
  architecture: string;
  parameterCount: number;
  /** GGUF file type number of the quantization (2 = Q4_0, 15 = Q4_K_M). */
  fileType: number;
  contextLength: number;
  /** Floats per embedding (/api/embed). */
  embeddingLength: number;
  /** Prompt tokens per image. */
  imageTokens: number;
  /** Tokens the chat template adds around a prompt. */
  templateTokens: number;
  /** Tokens per second: reading the prompt, and generating. */
  promptRate: number;
  evalRate: number;
  license: string;
  parameters: string;
}

const details = (family: string, families: string[], parameterSize: string, quantization: string): OllamaModelDetails => ({
  parent_model: '',
  format: 'gguf',
  family,
  families,
  parameter_size: parameterSize,
  quantization_level: quantization,
});

/** In /api/tags order (most recently modified first, as Ollama sorts them). */
export const OLLAMA_MODELS: readonly OllamaModel[] = [
  {
    name: 'llava:13b',
    modified_at: '2025-12-27T12:24:24Z',
    size: 8011256494,
    digest: '0d0eb4d7f485d7d0a21fd9b0c1d5b04da481d2150a097e81b64acb59758fdef6',
    details: details('llama', ['llama', 'clip'], '13B', 'Q4_0'),
    capabilities: ['completion', 'vision'],
    architecture: 'llama',
    parameterCount: 13015864320,
    fileType: 2,
    contextLength: 4096,
    embeddingLength: 5120,
    imageTokens: 576,
    templateTokens: 12,
    promptRate: 160,
    evalRate: 8,
    license: 'LLAMA 2 COMMUNITY LICENSE AGREEMENT',
    parameters: 'stop                           "USER:"\nstop                           "ASSISTANT:"',
  },
  {
    name: 'ministral-3:8b',
    modified_at: '2025-12-27T12:20:58Z',
    size: 6022236616,
    digest: '1922accd5827ebe6829e536369195db25eaf664528dc66206d646ea3bb386b71',
    details: details('mistral3', ['mistral3'], '8.9B', 'Q4_K_M'),
    capabilities: ['completion', 'vision', 'tools'],
    architecture: 'mistral3',
    parameterCount: 8918537216,
    fileType: 15,
    contextLength: 262144,
    embeddingLength: 4096,
    imageTokens: 480,
    templateTokens: 10,
    promptRate: 220,
    evalRate: 12,
    license: 'Apache License Version 2.0',
    parameters: 'temperature                    0.15',
  },
  {
    name: 'deepseek-r1:8b',
    modified_at: '2025-12-27T12:16:44Z',
    size: 5225376047,
    digest: '6995872bfe4c521a67b32da386cd21d5c6e819b6e0d62f79f64ec83be99f5763',
    details: details('qwen3', ['qwen3'], '8.2B', 'Q4_K_M'),
    capabilities: ['completion', 'thinking'],
    architecture: 'qwen3',
    parameterCount: 8190735360,
    fileType: 15,
    contextLength: 131072,
    embeddingLength: 4096,
    imageTokens: 0,
    templateTokens: 8,
    promptRate: 230,
    evalRate: 12,
    license: 'MIT License',
    parameters: 'temperature                    0.6\ntop_p                          0.95',
  },
  {
    name: 'llava:7b',
    modified_at: '2025-12-27T12:07:47Z',
    size: 4733363377,
    digest: '8dd30f6b0cb19f555f2c7a7ebda861449ea2cc76bf1f44e262931f45fc81d081',
    details: details('llama', ['llama', 'clip'], '7B', 'Q4_0'),
    capabilities: ['completion', 'vision'],
    architecture: 'llama',
    parameterCount: 7241732096,
    fileType: 2,
    contextLength: 32768,
    embeddingLength: 4096,
    imageTokens: 576,
    templateTokens: 12,
    promptRate: 260,
    evalRate: 15,
    license: 'Apache License Version 2.0',
    parameters: 'stop                           "[INST]"\nstop                           "[/INST]"',
  },
  {
    name: 'gemma3:4b',
    modified_at: '2025-12-27T11:37:27Z',
    size: 3338801804,
    digest: 'a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a',
    details: details('gemma3', ['gemma3'], '4.3B', 'Q4_K_M'),
    capabilities: ['completion', 'vision'],
    architecture: 'gemma3',
    parameterCount: 4299915632,
    fileType: 15,
    contextLength: 131072,
    embeddingLength: 2560,
    imageTokens: 256,
    templateTokens: 9,
    promptRate: 400,
    evalRate: 22,
    license: 'Gemma Terms of Use',
    parameters: 'stop                           "<end_of_turn>"\ntemperature                    1\ntop_k                          64\ntop_p                          0.95',
  },
];

/**
 * The model a name means, as Ollama resolves names: case-insensitively, with ":latest" implied
 * and the registry prefix "registry.ollama.ai/library/" optional. None of the five has a
 * "latest" tag, so "gemma3" alone is not found, as onboard.
 */
export function findOllamaModel(name: string): OllamaModel | undefined {
  let n = name.trim().toLowerCase().replace(/^registry\.ollama\.ai\//, '').replace(/^library\//, '');
  if (!n.includes(':')) n += ':latest';
  return OLLAMA_MODELS.find((m) => m.name === n);
}
