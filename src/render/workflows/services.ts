// CI service containers with health checks, and the connection URLs the test job gets in its environment.
import type { AppConfig, ServiceType } from "../../config/types";
import type { Service } from "./model";

type ServiceConfig = AppConfig["services"][number];

interface ServiceRecipe {
  image: string;
  port: number;
  env?: Record<string, string>;
  healthCmd: string;
  urls: Record<string, string>;
}

// Throwaway credentials of a CI-only container, reachable only from the job's runner.
const RECIPES: Record<ServiceType, ServiceRecipe> = {
  postgres: {
    image: "postgres",
    port: 5432,
    env: { POSTGRES_USER: "postgres", POSTGRES_PASSWORD: "postgres", POSTGRES_DB: "test" },
    healthCmd: '"pg_isready -U postgres"',
    urls: {
      DATABASE_URL: "postgres://postgres:postgres@localhost:5432/test",
      POSTGRES_URL: "postgres://postgres:postgres@localhost:5432/test",
    },
  },
  mysql: {
    image: "mysql",
    port: 3306,
    env: { MYSQL_ROOT_PASSWORD: "mysql", MYSQL_DATABASE: "test" },
    healthCmd: '"mysqladmin ping -h 127.0.0.1 -uroot -pmysql"',
    urls: {
      DATABASE_URL: "mysql://root:mysql@localhost:3306/test",
      MYSQL_URL: "mysql://root:mysql@localhost:3306/test",
    },
  },
  redis: {
    image: "redis",
    port: 6379,
    healthCmd: '"redis-cli ping"',
    urls: { REDIS_URL: "redis://localhost:6379" },
  },
  mongodb: {
    image: "mongo",
    port: 27017,
    healthCmd: `"mongosh --quiet --eval 'db.runCommand({ ping: 1 }).ok'"`,
    urls: { MONGODB_URL: "mongodb://localhost:27017/test" },
  },
};

function serviceContainer(service: ServiceConfig): Service {
  const recipe = RECIPES[service.type];
  return {
    image: `${recipe.image}:${service.version}`,
    ...(recipe.env ? { env: recipe.env } : {}),
    ports: [`${recipe.port}:${recipe.port}`],
    options: `--health-cmd ${recipe.healthCmd} --health-interval 5s --health-timeout 5s --health-retries 20`,
  };
}

export function serviceContainers(services: readonly ServiceConfig[]): Record<string, Service> | undefined {
  if (services.length === 0) return undefined;
  return Object.fromEntries(services.map((s) => [s.type, serviceContainer(s)]));
}

/** Connection URLs for the test job; the first relational database listed gets DATABASE_URL. */
export function serviceUrls(services: readonly ServiceConfig[]): Record<string, string> | undefined {
  if (services.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const service of services) {
    for (const [name, url] of Object.entries(RECIPES[service.type].urls)) {
      if (!(name in env)) env[name] = url;
    }
  }
  return env;
}
