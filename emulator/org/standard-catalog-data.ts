/**
 * The long tail of standard objects a production org lists (API 62.0), one row per object:
 * `Name category audit [parentField]`.
 *
 * - category: see `CatalogCategory` in `standard-catalog.ts`.
 * - audit: which system fields the object has: N Name, O OwnerId, D IsDeleted, C CreatedDate and
 *   CreatedById, L LastModifiedDate and LastModifiedById, S SystemModstamp; `-` for none of them.
 * - parentField: for history, share and feed rows, the field naming the tracked record.
 *
 * Names and system fields follow the standard-object schema jsforce publishes
 * (`jsforce/src/types/standard-schema.ts`, generated from a Developer Edition org's describe);
 * categories follow Salesforce's Object Reference and the object lists of Airbyte's Salesforce
 * connector (see docs/emulator-org.md). Objects the org models in full (Account, Contact, ...) are
 * left out here; the catalog never replaces them.
 */
export const CATALOG_ROWS = `
AcceptedEventRelation nobulk DCLS
AccountBrand data NODCLS
AccountBrandShare share DL ParentId
AccountContactRole data DCLS
AccountContactRoleChangeEvent change CL
AccountFeed feed DCLS ParentId
AccountHistory history DC AccountId
AccountPartner setup DCLS
AccountShare share DL AccountId
ActionLinkGroupTemplate setup DCLS
ActionLinkTemplate setup DCLS
ActivityHistory virtual ODCLS
AdditionalNumber setup NDCLS
AggregateResult virtual -
Announcement filter DCLS
ApexClass setup NCLS
ApexComponent setup NCLS
ApexEmailNotification setup DCLS
ApexLog setup LS
ApexPage setup NCLS
ApexPageInfo setup N
ApexTestQueueItem setup CS
ApexTestResult setup S
ApexTestResultLimits setup DCLS
ApexTestRunResult setup DCLS
ApexTestSuite setup DCLS
ApexTrigger setup NCLS
AppDefinition setup -
AppMenuItem setup NDCLS
AppTabMember filter -
Approval setup ODCLS
Asset data NODCLS
AssetChangeEvent change NOCL
AssetFeed feed DCLS ParentId
AssetHistory history DC AssetId
AssetRelationship data DCLS
AssetRelationshipFeed feed DCLS ParentId
AssetRelationshipHistory history DC AssetRelationshipId
AssetShare share DL AssetId
AssetTokenEvent event NC
AssignmentRule setup NCLS
AsyncApexJob setup C
AttachedContentDocument virtual DCL
AuraDefinition setup DCLS
AuraDefinitionBundle setup DCLS
AuraDefinitionBundleInfo setup -
AuraDefinitionInfo setup L
AuthConfig setup DCLS
AuthConfigProviders setup DCLS
AuthProvider setup C
AuthSession setup CL
BackgroundOperation setup NDCLS
BrandTemplate setup NCLS
BrandingSet setup DCLS
BrandingSetProperty setup DCLS
BusinessHours setup NCLS
BusinessProcess setup NCLS
CallCenter setup NCLS
Campaign data NODCLS
CampaignChangeEvent change NOCL
CampaignFeed feed DCLS ParentId
CampaignHistory history DC CampaignId
CampaignInfluenceModel setup DCLS
CampaignMember data NDCLS
CampaignMemberStatus setup DCLS
CampaignShare share DL CampaignId
CaseArticle setup DCS
CaseChangeEvent change OCL
CaseComment data DCLS
CaseContactRole data DCLS
CaseExternalDocument setup NDCLS
CaseFeed feed DCLS ParentId
CaseHistory history DC CaseId
CaseMilestone setup DCLS
CaseShare share DL CaseId
CaseSolution data DCS
CaseSubjectParticle setup DCLS
CaseTeamMember data CLS
CaseTeamRole setup NCLS
CaseTeamTemplate setup NCLS
CaseTeamTemplateMember setup CLS
CaseTeamTemplateRecord setup CS
CategoryData setup DCLS
CategoryNode setup CLS
ChatterActivity setup S
ChatterExtension setup DCLS
ChatterExtensionConfig setup DCLS
ClientBrowser setup C
CollaborationGroup data NOCLS
CollaborationGroupFeed feed DCLS ParentId
CollaborationGroupMember data CLS
CollaborationGroupMemberRequest setup CLS
CollaborationGroupRecord filter DCLS
CollaborationInvitation setup CLS
ColorDefinition filter -
CombinedAttachment virtual DCL
Community setup NCLS
ConnectedApplication setup NCLS
ContactChangeEvent change NOCL
ContactFeed feed DCLS ParentId
ContactHistory history DC ContactId
ContactRequest data NODCLS
ContactRequestShare share DL ParentId
ContactShare share DL ContactId
ContentAsset setup DCLS
ContentBody virtual -
ContentDistribution data NODCLS
ContentDistributionView setup DCS
ContentDocumentFeed feed DCLS ParentId
ContentDocumentHistory history DC ContentDocumentId
ContentDocumentSubscription setup -
ContentFolder setup NDCLS
ContentFolderItem filter DCLS
ContentFolderLink setup D
ContentFolderMember filter DCLS
ContentHubItem setup NCL
ContentHubRepository setup DCLS
ContentNotification setup C
ContentTagSubscription setup -
ContentUserSubscription setup -
ContentVersionComment setup C
ContentVersionHistory history DC ContentVersionId
ContentVersionRating setup L
ContentWorkspace setup NCLS
ContentWorkspaceDoc setup DCS
ContentWorkspaceMember setup C
ContentWorkspacePermission setup NCLS
ContentWorkspaceSubscription setup -
Contract data ODCLS
ContractContactRole data DCLS
ContractFeed feed DCLS ParentId
ContractHistory history DC ContractId
ContractLineItem data DCLS
ContractLineItemChangeEvent change CL
ContractLineItemHistory history DC ContractLineItemId
ContractStatus nobulk CLS
CorsWhitelistEntry setup DCLS
CronJobDetail setup N
CronTrigger setup OC
CspTrustedSite setup DCLS
CustomBrand setup CL
CustomBrandAsset setup CL
CustomHttpHeader setup CLS
CustomObjectUserLicenseMetrics setup S
CustomPermission setup DCLS
CustomPermissionDependency setup DCLS
Dashboard setup DCLS
DashboardComponent setup N
DashboardComponentFeed feed DCLS ParentId
DashboardFeed feed DCLS ParentId
DataAssessmentFieldMetric setup NDCLS
DataAssessmentMetric setup NDCLS
DataAssessmentValueMetric setup NDCLS
DataIntegrationRecordPurchasePermission setup DCLS
DataStatistics filter -
DataType virtual -
DatacloudAddress virtual -
DatasetExport setup DCLS
DatasetExportEvent event C
DatasetExportPart setup DCLS
DeclinedEventRelation nobulk DCLS
DocumentAttachmentMap setup C
Domain setup CLS
DomainSite setup CLS
DuplicateRecordItem data NDCLS
DuplicateRecordSet data NDCLS
DuplicateRule setup DCLS
EmailCapture setup DCLS
EmailDomainFilter setup DCLS
EmailDomainKey setup DCLS
EmailMessage data DCLS
EmailMessageRelation data DCS
EmailRelay setup DCLS
EmailServicesAddress setup CLS
EmailServicesFunction setup CLS
EmailStatus virtual CL
EmailTemplate data NOCLS
EmbeddedServiceDetail setup -
Entitlement data NDCLS
EntitlementChangeEvent change NCL
EntitlementContact data NDCLS
EntitlementFeed feed DCLS ParentId
EntitlementHistory history DC EntitlementId
EntitlementTemplate setup NCLS
EntityDefinition setup L
EntityMilestone setup NDCLS
EntityMilestoneFeed feed DCLS ParentId
EntityMilestoneHistory history DC EntityMilestoneId
EntityParticle filter N
EntitySubscription data DC
EventBusSubscriber setup N
EventChangeEvent change OCL
EventFeed feed DCLS ParentId
EventLogFile setup DCLS
EventRelation data DCLS
EventRelationChangeEvent change CL
ExternalDataSource setup DCLS
ExternalDataUserAuth setup DCLS
ExternalSocialAccount setup DCLS
FeedAttachment setup D
FeedComment data DCS
FeedItem data DCLS
FeedLike virtual DC
FeedPollChoice setup DC
FeedPollVote setup DCL
FeedRevision setup DCS
FeedSignal virtual DC
FeedTrackedChange virtual -
FieldDefinition filter L
FieldPermissions setup S
FileSearchActivity setup NDCLS
FiscalYearSettings setup NS
FlexQueueItem filter -
FlowInterview data NODCLS
FlowInterviewShare share DL ParentId
FlowRecordRelation setup NDCLS
FlowStageRelation setup NDCLS
FolderedContentDocument virtual DCLS
ForecastShare share L UserRoleId
ForecastingShare setup DCLS
GrantedByLicense setup DCLS
GroupMember data S
Holiday setup NCLS
IconDefinition filter -
Idea data DCLS
IdeaComment filter DCS
IdpEventLog setup -
Individual data NODCLS
IndividualHistory history DC IndividualId
IndividualShare share DL IndividualId
InstalledMobileApp setup NDCLS
KnowledgeArticle setup DCLS
KnowledgeArticleVersion knowledge ODCLS
KnowledgeArticleVersionHistory setup DC
KnowledgeArticleViewStat setup D
KnowledgeArticleVoteStat setup D
Knowledge__DataCategorySelection setup DCS
Knowledge__ViewStat setup D
Knowledge__VoteStat setup D
Knowledge__ka setup DCLS
Knowledge__kav knowledge ODCLS
KnowledgeableUser setup S
LeadChangeEvent change NOCL
LeadFeed feed DCLS ParentId
LeadHistory history DC LeadId
LeadShare share DL LeadId
LeadStatus setup CLS
LightningExperienceTheme setup DCLS
LinkedArticle setup NDCLS
LinkedArticleFeed feed DCLS ParentId
LinkedArticleHistory history DC LinkedArticleId
ListEmail data NODCLS
ListEmailChangeEvent change NOCL
ListEmailRecipientSource setup NDCLS
ListEmailShare share DL ParentId
ListView setup NCLS
ListViewChart data ODCLS
ListViewChartInstance virtual -
LoginGeo setup DCLS
LoginHistory setup -
LoginIp setup C
LogoutEventStream event C
LookedUpFromActivity virtual ODCLS
Macro data NODCLS
MacroHistory history DC MacroId
MacroInstruction setup NDCLS
MacroShare share DL ParentId
MailmergeTemplate setup NDCLS
MatchingRule setup DCLS
MatchingRuleItem setup DCLS
MilestoneType setup NCLS
Name virtual N
NamedCredential setup DCLS
NoteAndAttachment virtual ODCLS
OauthToken setup C
ObjectPermissions setup CLS
OpenActivity virtual ODCLS
OpportunityChangeEvent change NOCL
OpportunityCompetitor data DCLS
OpportunityContactRole data DCLS
OpportunityContactRoleChangeEvent change CL
OpportunityFeed feed DCLS ParentId
OpportunityFieldHistory history DC OpportunityId
OpportunityHistory setup DCS
OpportunityLineItem data NDCLS
OpportunityPartner setup DCLS
OpportunityShare share DL OpportunityId
OpportunityStage setup CLS
Order data ODCLS
OrderChangeEvent change OCL
OrderFeed feed DCLS ParentId
OrderHistory history DC OrderId
OrderItem data DCLS
OrderItemChangeEvent change CL
OrderItemFeed feed DCLS ParentId
OrderItemHistory history DC OrderItemId
OrderShare share DL OrderId
OrgLifecycleNotification event C
OrgWideEmailAddress setup CLS
OutgoingEmail virtual -
OutgoingEmailRelation virtual -
OwnedContentDocument virtual ODCL
OwnerChangeOptionInfo filter N
PackageLicense setup CLS
Partner setup DCLS
PartnerRole nobulk CLS
Period setup S
PermissionSet setup NCLS
PermissionSetAssignment data S
PermissionSetLicense setup DCLS
PermissionSetLicenseAssign setup DCLS
PicklistValueInfo filter -
PlatformAction filter L
PlatformCachePartition setup DCLS
PlatformCachePartitionType setup DCLS
Pricebook2 data NDCLS
Pricebook2History history DC Pricebook2Id
PricebookEntry data NDCLS
ProcessDefinition setup NCLS
ProcessInstance setup DCLS
ProcessInstanceHistory virtual DCS
ProcessInstanceNode setup DCLS
ProcessInstanceStep setup CS
ProcessInstanceWorkitem setup DCS
ProcessNode setup NS
Product2 data NDCLS
Product2ChangeEvent change NCL
Product2Feed feed DCLS ParentId
Product2History history DC Product2Id
ProductEntitlementTemplate setup CS
ProfileSkill data NODCLS
ProfileSkillEndorsement setup NDCLS
ProfileSkillEndorsementFeed feed DCLS ParentId
ProfileSkillEndorsementHistory history DC ProfileSkillEndorsementId
ProfileSkillFeed feed DCLS ParentId
ProfileSkillHistory history DC ProfileSkillId
ProfileSkillShare share DL ParentId
ProfileSkillUser setup NDCLS
ProfileSkillUserFeed feed DCLS ParentId
ProfileSkillUserHistory history DC ProfileSkillUserId
Publisher setup N
PushTopic setup NDCLS
QueueSobject setup S
QuickText data NODCLS
QuickTextHistory history DC QuickTextId
QuickTextShare share DL ParentId
RecentlyViewed nobulk N
RecordAction setup DCLS
RelationshipDomain filter -
RelationshipInfo filter -
Report setup NODCLS
ReportFeed feed DCLS ParentId
SamlSsoConfig setup DCLS
Scontrol setup NDCLS
SearchActivity setup NDCLS
SearchLayout filter L
SearchPromotionRule setup DCLS
SecureAgentsCluster setup DCLS
SecurityCustomBaseline setup DCLS
ServiceContract data NODCLS
ServiceContractChangeEvent change NOCL
ServiceContractFeed feed DCLS ParentId
ServiceContractHistory history DC ServiceContractId
ServiceContractShare share DL ParentId
SessionPermSetActivation setup DCLS
SetupAuditTrail setup C
SetupEntityAccess setup S
Site setup NCLS
SiteDetail filter -
SiteFeed feed DCLS ParentId
SiteHistory history DC SiteId
SlaProcess setup NDCLS
SocialPersona setup NDCLS
SocialPersonaHistory history DC SocialPersonaId
SocialPost data NODCLS
SocialPostFeed feed DCLS ParentId
SocialPostHistory history DC SocialPostId
SocialPostShare share DL ParentId
Solution data ODCLS
SolutionFeed feed DCLS ParentId
SolutionHistory history DC SolutionId
SolutionStatus nobulk CLS
SourceChangeNotification event C
Stamp setup DCLS
StampAssignment setup DCLS
StaticResource setup NCLS
StreamingChannel data NODCLS
StreamingChannelShare share DL ParentId
TabDefinition setup N
TaskChangeEvent change OCL
TaskFeed feed DCLS ParentId
TaskPriority nobulk CLS
TenantUsageEntitlement setup DCLS
TestSuiteMembership setup DCLS
ThirdPartyAccountLink setup -
TodayGoal data NODCLS
TodayGoalShare share DL ParentId
Topic data NCS
TopicAssignment data DCS
TopicFeed feed DCLS ParentId
TopicUserEvent setup C
UndecidedEventRelation nobulk DCLS
UserAppInfo setup DCLS
UserAppMenuCustomization data ODCLS
UserAppMenuCustomizationShare share DL ParentId
UserAppMenuItem setup N
UserChangeEvent change NCL
UserEntityAccess filter -
UserFeed feed DCLS ParentId
UserFieldAccess filter -
UserLicense setup NCLS
UserListView setup DCLS
UserListViewCriterion setup DCLS
UserLogin setup L
UserPackageLicense setup CLS
UserPermissionAccess setup -
UserPreference setup S
UserProvAccount setup NDCLS
UserProvAccountStaging setup NDCLS
UserProvMockTarget setup NDCLS
UserProvisioningConfig setup DCLS
UserProvisioningLog setup NDCLS
UserProvisioningRequest data NODCLS
UserProvisioningRequestShare share DL ParentId
UserRecordAccess filter -
UserShare share L UserId
VerificationHistory setup DCLS
VisibilityChangeNotification event C
VisualforceAccessMetrics setup S
Vote filter DCLS
WaveAutoInstallRequest setup NDCLS
WaveCompatibilityCheckItem setup NDCLS
WebLink setup NCLS
WorkAccess data ODCLS
WorkAccessShare share DL ParentId
WorkBadge setup DCLS
WorkBadgeDefinition data NODCLS
WorkBadgeDefinitionFeed feed DCLS ParentId
WorkBadgeDefinitionHistory history DC WorkBadgeDefinitionId
WorkBadgeDefinitionShare share DL ParentId
WorkOrder data ODCLS
WorkOrderFeed feed DCLS ParentId
WorkOrderHistory history DC WorkOrderId
WorkOrderLineItem data DCLS
WorkOrderLineItemFeed feed DCLS ParentId
WorkOrderLineItemHistory history DC WorkOrderLineItemId
WorkOrderLineItemStatus setup CLS
WorkOrderShare share DL ParentId
WorkOrderStatus setup CLS
WorkThanks data ODCLS
WorkThanksShare share DL ParentId
FieldHistoryArchive big CS
`;
