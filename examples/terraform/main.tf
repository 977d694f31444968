# A Terraform module that runs `aimon-gen build` and exposes what it wrote.
#
#   module "monitoring" {
#     source  = "./examples/terraform"
#     spec    = "${path.root}/specs/example.yaml"
#     out_dir = "${path.root}/out"
#   }
#   # then, e.g. for each dashboard: file("${module.monitoring.out_dir}/${f}")
#
# Only Terraform's built-in provider is used (terraform_data), so `terraform init` needs no
# download. The build re-runs when the spec's content, the output folder or the format
# changes. aimon-gen checks every file with promtool/amtool and writes nothing when the spec
# is wrong: the apply then fails with the spec's file:line:col messages.

terraform {
  required_version = ">= 1.4"
}

variable "spec" {
  type        = string
  description = "Path of the aimon-gen spec (YAML)."
}

variable "out_dir" {
  type        = string
  description = "Folder the build writes (created when missing)."
}

variable "format" {
  type        = string
  default     = "files"
  description = "files | kubernetes | both (aimon-gen build --format)."
  validation {
    condition     = contains(["files", "kubernetes", "both"], var.format)
    error_message = "format must be files, kubernetes or both."
  }
}

variable "aimon_gen" {
  type        = string
  default     = "aimon-gen"
  description = "The aimon-gen command (a path, or a name on PATH)."
}

resource "terraform_data" "build" {
  triggers_replace = [filesha256(var.spec), var.out_dir, var.format, var.aimon_gen]
  input            = abspath(var.out_dir)

  provisioner "local-exec" {
    # The command line as a list, no shell: paths with spaces or quotes stay intact.
    # local-exec appends `command` as the last argument of `interpreter`.
    interpreter = [var.aimon_gen, "build", var.spec, "-o", var.out_dir, "--format", var.format]
    command     = "--quiet"
  }
}

output "out_dir" {
  description = "Absolute path of the output folder, known once the build ran."
  value       = terraform_data.build.output
}

output "files" {
  description = "Every file the build wrote, relative to out_dir (from its manifest)."
  value = [
    for line in split("\n", file("${terraform_data.build.output}/.aimon-gen-manifest")) :
    line if line != "" && !startswith(line, "#")
  ]
}

output "prometheus_config" {
  description = "Path of prometheus.yml (format files or both)."
  value       = "${terraform_data.build.output}/prometheus.yml"
}
