CREATE TABLE "answer_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"platform" text NOT NULL,
	"tenant_external_id" text NOT NULL,
	"event_id" text NOT NULL,
	"channel_id" text NOT NULL,
	"thread_id" text DEFAULT '' NOT NULL,
	"user_id" text NOT NULL,
	"state" text DEFAULT 'received' NOT NULL,
	"text" text DEFAULT '' NOT NULL,
	"delivery" jsonb NOT NULL,
	"secrets_key_id" text,
	"secrets" text,
	"reply" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"mergeable" boolean DEFAULT false NOT NULL,
	"question_id" bigint,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"progress_tokens" integer DEFAULT 0 NOT NULL,
	"outcome_code" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "answer_jobs" ADD CONSTRAINT "answer_jobs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "answer_jobs_delivery_uq" ON "answer_jobs" USING btree ("platform","event_id");--> statement-breakpoint
CREATE INDEX "answer_jobs_lease_idx" ON "answer_jobs" USING btree ("lease_expires_at") WHERE "answer_jobs"."state" in ('received', 'waiting', 'answering');--> statement-breakpoint
CREATE INDEX "answer_jobs_conversation_idx" ON "answer_jobs" USING btree ("tenant_id","channel_id","thread_id","created_at");--> statement-breakpoint
CREATE INDEX "answer_jobs_finished_idx" ON "answer_jobs" USING btree ("finished_at");