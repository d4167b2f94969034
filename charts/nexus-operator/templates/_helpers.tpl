{{/* The chart's name, and the release's full name (the release name when it already says it). */}}
{{- define "nexus-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "nexus-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* What the Deployment, Service, PDB and NetworkPolicy select: the same as config/ (immutable). */}}
{{- define "nexus-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nexus-operator.name" . }}
{{- end }}

{{/* The install's identity, on pods too. */}}
{{- define "nexus-operator.identityLabels" -}}
{{ include "nexus-operator.selectorLabels" . }}
app.kubernetes.io/part-of: nexus
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "nexus-operator.labels" -}}
{{ include "nexus-operator.identityLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "nexus-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "nexus-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, the tag defaulting to the chart's appVersion. Usage: include "nexus-operator.image" (list .Values.image .) */}}
{{- define "nexus-operator.image" -}}
{{- $image := index . 0 }}
{{- $root := index . 1 }}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) }}
{{- end }}
