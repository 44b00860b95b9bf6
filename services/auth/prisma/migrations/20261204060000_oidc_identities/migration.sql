-- Social login (OpenID Connect), architecture/decisions/0024-social-login.md.

-- An account made from a provider identity has no password until its owner sets one.
ALTER TABLE "users" ALTER COLUMN "password_hash" DROP NOT NULL;

-- Which provider a login went through (null: password).
ALTER TABLE "login_attempts" ADD COLUMN "provider" TEXT;

-- A provider identity (issuer + subject) linked to an account.
CREATE TABLE "user_identities" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "email" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "user_identities_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "user_identities_issuer_subject_key" ON "user_identities"("issuer", "subject");
CREATE UNIQUE INDEX "user_identities_user_id_provider_key" ON "user_identities"("user_id", "provider");
ALTER TABLE "user_identities" ADD CONSTRAINT "user_identities_user_id_fkey"
    FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A started authorization-code flow: found by the SHA-256 of its state, bound
-- to the browser that started it by the SHA-256 of a cookie value.
CREATE TABLE "oauth_flows" (
    "state_hash" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "binding_hash" TEXT NOT NULL,
    "code_verifier" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "redirect_uri" TEXT NOT NULL,
    "link_user_id" UUID,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "oauth_flows_pkey" PRIMARY KEY ("state_hash")
);
CREATE INDEX "oauth_flows_expires_at_idx" ON "oauth_flows"("expires_at");

-- One-time codes handed to the front end after a provider login; SHA-256 only.
CREATE TABLE "oauth_codes" (
    "code_hash" TEXT NOT NULL,
    "user_id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "oauth_codes_pkey" PRIMARY KEY ("code_hash")
);
CREATE INDEX "oauth_codes_expires_at_idx" ON "oauth_codes"("expires_at");
ALTER TABLE "oauth_codes" ADD CONSTRAINT "oauth_codes_user_id_fkey"
    FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
