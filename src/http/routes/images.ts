import { z } from 'zod';
import type { ImageService } from '../../domain/images/image-service.ts';
import type { VolumeService } from '../../domain/volumes/volume-service.ts';
import { text } from '../params.ts';
import type { RouteTable } from '../route-table.ts';
import { volumeParams, volumeSelection } from './files.ts';

/** Sections 5 to 7 of the spec: build, load, list. */
export function registerImageRoutes(routes: RouteTable, deps: { images: ImageService; volumes: VolumeService }): void {
  const { images, volumes } = deps;

  routes.add(
    {
      methods: ['POST'],
      path: '/em/pod/image/build',
      tag: 'images',
      summary: 'Build an image from a Dockerfile and context in the volume (air-gapped, FROM the catalog only)',
      params: z.object({
        ...volumeParams,
        dockerfile: text().describe('path of the Dockerfile in the volume'),
        context: text().optional().describe('build context folder in the volume; default the volume root'),
        image: text().describe('image name, stored as USER-IMAGE'),
      }),
      success: { description: 'Built', example: { message: 'Docker Image built successfully' } },
      errors: ['MISSING_PARAMETER', 'BUILD_FAILED', 'INVALID_IMAGE_NAME', 'INVALID_PATH', 'ILLEGAL_PATH', 'INVALID_POD_NAME', 'STRICT_MODE', 'DOCKER_UNAVAILABLE'],
    },
    async (c, p) => {
      await images.build(volumes.select(c.get('user'), volumeSelection(p)), p.dockerfile, p.context ?? '.', p.image);
      return c.json({ message: 'Docker Image built successfully' }, 200);
    },
  );

  routes.add(
    {
      methods: ['POST'],
      path: '/em/pod/image/load',
      tag: 'images',
      summary: 'Load an image from a docker save tar in the volume',
      params: z.object({
        ...volumeParams,
        tarfile: text().describe('path of the tar in the volume'),
        image: text().describe('the image name in the tar, USER-NAME or NAME'),
      }),
      success: { description: 'Loaded', example: { message: 'Tar file loaded successfully' } },
      errors: ['MISSING_PARAMETER', 'IMAGE_LOAD_FAILED', 'INVALID_IMAGE_NAME', 'INVALID_PATH', 'ILLEGAL_PATH', 'INVALID_POD_NAME', 'STRICT_MODE', 'DOCKER_UNAVAILABLE'],
    },
    async (c, p) => {
      await images.load(volumes.select(c.get('user'), volumeSelection(p)), p.tarfile, p.image);
      return c.json({ message: 'Tar file loaded successfully' }, 200);
    },
  );

  routes.add(
    {
      methods: ['GET', 'POST'],
      path: '/em/pod/image/list',
      tag: 'images',
      summary: 'The user\'s own images (public catalog images are not listed)',
      params: z.object({}),
      success: {
        description: 'Images with name, tag, id, size, creation time and architecture',
        example: {
          message: 'Successfully loaded list of docker images',
          data: [{ name: 'client1-echo-test', tag: 'latest', id: 'sha256:…', size: 7_800_000, created: '2025-11-20T12:31:12Z', architecture: 'amd64' }],
        },
      },
      errors: ['STRICT_MODE', 'DOCKER_UNAVAILABLE'],
    },
    async (c) => c.json({ message: 'Successfully loaded list of docker images', data: await images.list(c.get('user')) }, 200),
  );
}
