# shellcheck shell=bash
# The local cluster's certificates: one openssl CA per run directory and the certificates it signs.
# Each file is created once and kept, so a restarted component presents the same identity.
# Expects PKI set (the run directory's pki/).

openssl_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }

ensure_ca() {
  [ -f "$PKI/ca.crt" ] && return 0
  openssl_key "$PKI/ca.key"
  openssl req -x509 -new -key "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 -subj "/CN=nexus-local-ca" 2>/dev/null
}

# Issues $PKI/NAME.{crt,key} signed by the CA unless it exists.
# Usage: issue_cert NAME SUBJECT serverAuth|clientAuth|serverAuth,clientAuth [SUBJECT_ALT_NAMES]
issue_cert() {
  local name="$1" subject="$2" usage="$3" sans="${4:-}" extra=()
  [ -f "$PKI/$name.crt" ] && return 0
  [ -z "$sans" ] || extra=(-addext "subjectAltName=$sans")
  openssl_key "$PKI/$name.key"
  openssl req -new -x509 -key "$PKI/$name.key" -out "$PKI/$name.crt.tmp" -days 3650 \
    -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -subj "$subject" "${extra[@]}" \
    -addext "extendedKeyUsage=$usage" 2>/dev/null
  mv "$PKI/$name.crt.tmp" "$PKI/$name.crt"
}

ensure_sa_key() {
  [ -f "$PKI/sa.key" ] && return 0
  openssl_key "$PKI/sa.key"
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
}

# Writes a kubeconfig for SERVER authenticating with the client certificate $PKI/USER.{crt,key}.
# Usage: write_kubeconfig FILE SERVER USER
write_kubeconfig() {
  local file="$1" server="$2" user="$3"
  cat >"$file.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: nexus-local
  cluster:
    server: $server
    certificate-authority: $PKI/ca.crt
users:
- name: nexus-$user
  user:
    client-certificate: $PKI/$user.crt
    client-key: $PKI/$user.key
contexts:
- name: nexus-local
  context: {cluster: nexus-local, user: nexus-$user, namespace: default}
current-context: nexus-local
KC
  chmod 600 "$file.tmp"
  mv "$file.tmp" "$file"
}
