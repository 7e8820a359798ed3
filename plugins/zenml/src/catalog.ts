/**
 * The ZenML integration catalog (as of ZenML 0.58): requirement specifiers, apt packages, and
 * variants by the image's target. Variants are chosen for the image, never for the host.
 */
import type { IntegrationQuery, IntegrationSpec } from "@dockwright/core";

/** A variant applies when every condition it names holds for the target. */
type Variant = {
  when: { os?: string; architecture?: string; pythonAbove?: string };
  requirements: string[];
};

export type CatalogEntry = IntegrationSpec & { variants?: Variant[] };

export const integrations: Readonly<Record<string, CatalogEntry>> = {
  airflow: { requirements: ["apache-airflow~=2.4.0", "pendulum<3.0.0"] },
  aws: { requirements: ["sagemaker==2.117.0", "kubernetes", "aws-profile-manager"] },
  azure: {
    requirements: [
      "adlfs>=2021.10.0",
      "azure-keyvault-keys",
      "azure-keyvault-secrets",
      "azure-identity==1.10.0",
      "azureml-core==1.54.0.post1",
      "azure-mgmt-containerservice>=20.0.0",
      "azure-storage-blob==12.17.0",
      "kubernetes",
    ],
  },
  deepchecks: {
    requirements: ["deepchecks[vision]"],
    // OpenCV, which deepchecks' vision checks load, needs these system libraries.
    aptPackages: ["ffmpeg", "libsm6", "libxext6"],
  },
  evidently: { requirements: ["evidently>0.2.6,<0.4.5"] },
  gcp: {
    requirements: [
      "kfp==1.8.22",
      "gcsfs",
      "google-cloud-secret-manager",
      "google-cloud-container>=2.21.0",
      "google-cloud-storage>=2.9.0",
      "google-cloud-aiplatform>=1.34.0",
      "google-cloud-build>=3.11.0",
      "kubernetes",
    ],
  },
  great_expectations: { requirements: ["great-expectations>=0.15.0,<=0.15.47"] },
  huggingface: { requirements: ["transformers<=4.31", "datasets", "huggingface_hub>0.19.0", "fsspec<=2023.12.0"] },
  kubeflow: { requirements: ["kfp==1.8.22"] },
  kubernetes: { requirements: ["kubernetes>=21.7,<26"] },
  mlflow: { requirements: ["mlflow>=2.1.1,<=2.12.2", "mlserver>=1.3.3", "mlserver-mlflow>=1.3.3", "python-rapidjson<1.15"] },
  pytorch: { requirements: ["torch"] },
  s3: { requirements: ["s3fs>2022.3.0", "boto3", "aws-profile-manager"] },
  sklearn: { requirements: ["scikit-learn"] },
  slack: { requirements: ["slack-sdk>=3.16.1", "aiohttp>=3.8.1"] },
  tensorflow: {
    requirements: ["tensorflow==2.11", "tensorflow_io>=0.24.0", "protobuf>=3.6.0,<4.0.0"],
    variants: [
      // Apple silicon hosts would need tensorflow-macos; images target Linux, so this never applies to them.
      { when: { os: "darwin", architecture: "arm64" }, requirements: ["tensorflow-macos==2.11", "tensorflow_io>=0.24.0", "protobuf>=3.6.0,<4.0.0"] },
      { when: { pythonAbove: "3.11" }, requirements: ["tensorflow==2.13", "tensorflow_io>=0.24.0", "protobuf>=3.6.0,<4.0.0"] },
    ],
  },
  wandb: { requirements: ["wandb>=0.12.12", "Pillow>=9.1.0"] },
};

/** The entry's requirements for a target: the first variant that applies, else the default. */
export function resolveIntegration(entry: CatalogEntry, query: IntegrationQuery): IntegrationSpec {
  const variant = entry.variants?.find(({ when }) =>
    (when.os === undefined || when.os === query.platform.os) &&
    (when.architecture === undefined || when.architecture === query.platform.architecture) &&
    (when.pythonAbove === undefined || comparePython(query.pythonVersion, when.pythonAbove) > 0));
  return {
    requirements: variant?.requirements ?? entry.requirements,
    ...(entry.aptPackages ? { aptPackages: entry.aptPackages } : {}),
    ...(entry.integrations ? { integrations: entry.integrations } : {}),
  };
}

function comparePython(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split(".").map(Number);
  const [bMajor = 0, bMinor = 0] = b.split(".").map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

/**
 * Stack component flavors -> the integration that provides them. `null`: a flavor built into
 * ZenML that needs nothing more.
 */
export const flavors: Readonly<Record<string, Readonly<Record<string, string | null>>>> = {
  orchestrator: { local: null, local_docker: null, kubeflow: "kubeflow", kubernetes: "kubernetes", airflow: "airflow", sagemaker: "aws", vertex: "gcp", azureml: "azure" },
  artifact_store: { local: null, s3: "s3", gcp: "gcp", azure: "azure" },
  container_registry: { default: null, dockerhub: null, aws: "aws", gcp: "gcp", azure: "azure" },
  image_builder: { local: null, gcp: "gcp", kaniko: "kubernetes" },
  step_operator: { sagemaker: "aws", vertex: "gcp", azureml: "azure", kubernetes: "kubernetes" },
  experiment_tracker: { mlflow: "mlflow", wandb: "wandb" },
  model_deployer: { mlflow: "mlflow", huggingface: "huggingface" },
  data_validator: { evidently: "evidently", great_expectations: "great_expectations", deepchecks: "deepchecks" },
  alerter: { slack: "slack" },
  secrets_manager: { aws: "aws", gcp: "gcp", azure: "azure" },
};
