{{/* Chart name, overridable with nameOverride. */}}
{{- define "globalsvc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Base name of every object: fullnameOverride, else the release name, with the
chart name appended when the release name does not already contain it.
Kept to 55 characters so "-reader" still fits in 63.
*/}}
{{- define "globalsvc.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "globalsvc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "globalsvc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "globalsvc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "globalsvc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: globalsvc
{{- end }}

{{/* The cluster name. The schema requires it already; this covers installs that skip schema validation. */}}
{{- define "globalsvc.clusterName" -}}
{{- required "clusterName is required: this cluster's name in the mesh (--set clusterName=NAME)" .Values.clusterName }}
{{- end }}

{{/* Control-plane namespace: ServiceEntries, Lease, east-west gateways. */}}
{{- define "globalsvc.controlPlaneNamespace" -}}
{{- default .Release.Namespace .Values.namespace }}
{{- end }}

{{/*
Namespace of the remote-cluster Secrets: secretNamespace when set; else the
control-plane namespace when it already holds remote Secrets (an install from
before the default moved, which keeps working); else globalsvc-remotes, a
namespace of their own, so the controller cannot read the control plane's
Secrets (the mesh CA among them).
*/}}
{{- define "globalsvc.secretNamespace" -}}
{{- if .Values.secretNamespace }}
{{- .Values.secretNamespace }}
{{- else if include "globalsvc.remoteSecretsInControlPlane" . }}
{{- include "globalsvc.controlPlaneNamespace" . }}
{{- else }}
{{- "globalsvc-remotes" }}
{{- end }}
{{- end }}

{{/*
"true" when the control-plane namespace holds a Secret labelled as a remote
Secret (globalsvc.solo.io/remote-cluster=true, or the legacy
istio/multiCluster=true). Empty under `helm template`, which sees no cluster.
*/}}
{{- define "globalsvc.remoteSecretsInControlPlane" -}}
{{- $found := "" }}
{{- $secrets := lookup "v1" "Secret" (include "globalsvc.controlPlaneNamespace" .) "" }}
{{- range $secret := (dig "items" list $secrets) }}
{{- $labels := dig "metadata" "labels" dict $secret }}
{{- if or (eq (get $labels "globalsvc.solo.io/remote-cluster") "true") (eq (get $labels "istio/multiCluster") "true") }}
{{- $found = "true" }}
{{- end }}
{{- end }}
{{- $found }}
{{- end }}

{{- define "globalsvc.serviceAccountName" -}}
{{- default (include "globalsvc.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/* Name of the reader ClusterRole and Role (for remote clusters' controllers). */}}
{{- define "globalsvc.readerName" -}}
{{- printf "%s-reader" (include "globalsvc.fullname" .) }}
{{- end }}

{{- define "globalsvc.readerServiceAccountName" -}}
{{- default (include "globalsvc.readerName" .) .Values.remoteReader.serviceAccountName }}
{{- end }}

{{- define "globalsvc.leaseName" -}}
{{- default "globalsvc" .Values.leaderElection.leaseName }}
{{- end }}

{{- define "globalsvc.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
