-- AlterTable: admins can disable a user (POST /v1/users/{id}/disable).
ALTER TABLE "users" ADD COLUMN "disabled_at" TIMESTAMPTZ(3);
