{{/*
TLS listener, station authentication and admission settings (OCPP_GW_TLS_*, OCPP_GW_AUTH_*,
OCPP_GW_CLIENT_CERT_HEADER, OCPP_GW_TRUSTED_PROXIES, OCPP_GW_MAX_CONNECTIONS). Only variables
whose value differs from the gateway's default are rendered.
*/}}
{{- define "ocpp-gateway.securityEnv" -}}
{{- if .Values.tls.enabled }}
- name: OCPP_GW_TLS_PORT
  value: {{ .Values.tls.port | int | quote }}
- name: OCPP_GW_TLS_CERT_FILE
  value: /etc/ocpp-gateway/tls/tls.crt
- name: OCPP_GW_TLS_KEY_FILE
  value: /etc/ocpp-gateway/tls/tls.key
{{- end }}
{{- if ne .Values.auth.mode "none" }}
- name: OCPP_GW_AUTH_MODE
  value: {{ .Values.auth.mode | quote }}
{{- end }}
{{- if .Values.auth.existingSecret }}
- name: OCPP_GW_AUTH_FILE
  value: /etc/ocpp-gateway/auth/{{ .Values.auth.existingSecretKey }}
{{- end }}
{{- with .Values.auth.httpUrl }}
- name: OCPP_GW_AUTH_HTTP_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.auth.clientCertHeader }}
- name: OCPP_GW_CLIENT_CERT_HEADER
  value: {{ . | quote }}
{{- end }}
{{- with .Values.auth.trustedProxies }}
- name: OCPP_GW_TRUSTED_PROXIES
  value: {{ join "," . | quote }}
{{- end }}
{{- if gt (int .Values.gateway.maxConnections) 0 }}
- name: OCPP_GW_MAX_CONNECTIONS
  value: {{ .Values.gateway.maxConnections | int | quote }}
{{- end }}
{{- end }}
